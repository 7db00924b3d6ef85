using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>PReLU: the elementwise driver with the slope broadcast along axis 1.</summary>
    private void RegisterActivations() =>
        Register(ActivationOps.PRelu, static (_, c, i, o) => ActivationOps.RunPRelu(GpuElementwiseDriver.Instance,
            c, i, o));
}
