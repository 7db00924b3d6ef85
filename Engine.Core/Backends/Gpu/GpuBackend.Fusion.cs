using Engine.Kernels;
using Engine.Kernels.Fusion;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>
    /// Fused-elementwise programs run one elementwise kernel per instruction (FusedProgramSteps), intermediates in
    /// scratch memory: correct, not yet one pass over memory.
    /// </summary>
    private void RegisterFusion()
    {
        Register(FusionOps.FusedElementwise, static (a, c, i, o) =>
            FusedProgramSteps.Run(a.Program, GpuElementwiseDriver.Instance, c,
                i.Select(x => x.Shape == o[0].Shape ? x : x.WithLayout(x.Layout.BroadcastTo(o[0].Shape))).ToArray(),
                o));
    }
}
