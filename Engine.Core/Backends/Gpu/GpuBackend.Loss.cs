using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>CTC's recursion is sequential in time and small per sample: it runs the CPU kernel on host copies.
    /// </summary>
    private void RegisterLoss()
    {
        Register(LossOps.CtcLoss, static (a, c, i, o) => OnCpu(LossOps.CtcLoss, a, c, i, o));
        Register(LossOps.CtcLossBackward, static (a, c, i, o) => OnCpu(LossOps.CtcLossBackward, a, c, i, o));
    }
}
