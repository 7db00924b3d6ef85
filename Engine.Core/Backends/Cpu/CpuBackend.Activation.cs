using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>PReLU: the elementwise driver with the slope broadcast along axis 1.</summary>
    private void RegisterActivations() =>
        Register(ActivationOps.PRelu, static (_, c, i, o) => ActivationOps.RunPRelu(CpuElementwiseDriver.Instance,
            c, i, o));
}
