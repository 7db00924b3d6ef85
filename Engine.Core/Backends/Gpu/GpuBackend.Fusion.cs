using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>
    /// Fused-elementwise programs run as one ILGPU kernel specialised over the program's generic struct
    /// composition (GpuFusedElementwise; GpuFusedReduce when the program ends with a reduction, whose kernels
    /// evaluate the expression where they read); programs it cannot take run one kernel per instruction.
    /// </summary>
    private void RegisterFusion()
    {
        Register(FusionOps.FusedElementwise, static (a, c, i, o) =>
        {
            var shape = a.Program.Reduction is null ? o[0].Shape : FusionOps.ElementwiseShape(a.Program,
                i.Select(x => x.Shape).ToArray(), o.Select(y => y.Shape).ToArray());
            var inputs = i.Select(x => x.Shape == shape ? x : x.WithLayout(x.Layout.BroadcastTo(shape))).ToArray();
            if (a.Program.Reduction is null) GpuFusedElementwise.Run(a.Program, c, inputs, o);
            else GpuFusedReduce.Run(a.Program, c, inputs, o);
        });
    }
}
