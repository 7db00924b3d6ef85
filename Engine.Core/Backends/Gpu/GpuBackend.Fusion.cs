using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>
    /// Fused-elementwise programs run as one ILGPU kernel specialised over the program's generic struct
    /// composition (GpuFusedElementwise); programs it cannot take run one kernel per instruction.
    /// </summary>
    private void RegisterFusion()
    {
        Register(FusionOps.FusedElementwise, static (a, c, i, o) =>
            GpuFusedElementwise.Run(a.Program, c,
                i.Select(x => x.Shape == o[0].Shape ? x : x.WithLayout(x.Layout.BroadcastTo(o[0].Shape))).ToArray(),
                o));
    }
}
