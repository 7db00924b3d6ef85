using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>Fused-elementwise programs run in one pass over memory (CpuFusedElementwise).</summary>
    private void RegisterFusion()
    {
        Register(FusionOps.FusedElementwise, static (a, c, i, o) =>
            CpuFusedElementwise.Run(a.Program, BroadcastAll(i, o[0].Shape), o));
    }

    private static TensorArg[] BroadcastAll(TensorArg[] inputs, Shape shape) =>
        inputs.Select(x => x.Shape == shape ? x : x.WithLayout(x.Layout.BroadcastTo(shape))).ToArray();
}
