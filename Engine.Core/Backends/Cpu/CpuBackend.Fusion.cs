using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>
    /// Fused-elementwise programs run in one pass over memory (CpuFusedElementwise; CpuFusedReduce when the
    /// program ends with a reduction).
    /// </summary>
    private void RegisterFusion()
    {
        Register(FusionOps.FusedElementwise, static (a, c, i, o) =>
        {
            var shape = a.Program.Reduction is null ? o[0].Shape : FusionOps.ElementwiseShape(a.Program,
                i.Select(x => x.Shape).ToArray(), o.Select(y => y.Shape).ToArray());
            CpuFusedElementwise.Run(a.Program, BroadcastAll(i, shape), o);
        });
    }

    private static TensorArg[] BroadcastAll(TensorArg[] inputs, Shape shape) =>
        inputs.Select(x => x.Shape == shape ? x : x.WithLayout(x.Layout.BroadcastTo(shape))).ToArray();
}
