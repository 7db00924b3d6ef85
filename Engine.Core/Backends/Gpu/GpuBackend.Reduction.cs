using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterReduction()
    {
        foreach (var (op, kind) in new[]
                 {
                     (ReductionOps.Sum, ReduceOp.Sum), (ReductionOps.Mean, ReduceOp.Mean),
                     (ReductionOps.Max, ReduceOp.Max), (ReductionOps.Min, ReduceOp.Min),
                     (ReductionOps.Prod, ReduceOp.Prod), (ReductionOps.Norm, ReduceOp.Norm),
                 })
        {
            var reduce = kind;
            var def = op;
            Register(op, (a, c, i, o) =>
            {
                if (i[0].DType is not (DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64))
                {
                    OnCpu(def, a, c, i, o);
                    return;
                }
                GpuReduce.Reduce(Runtime(c), reduce, ForwardStrided(c, i[0]), a.Axes, o[0]);
            });
        }
        Register(ReductionOps.ArgMax, static (a, c, i, o) => ArgReduce(true, a, c, i[0], o[0]));
        Register(ReductionOps.ArgMin, static (a, c, i, o) => ArgReduce(false, a, c, i[0], o[0]));
    }

    /// <summary>Reversed views are copied first, as on the CPU.</summary>
    private static TensorArg ForwardStrided(KernelContext c, in TensorArg x) =>
        x.Layout.Strides.Any(s => s < 0) ? c.Contiguous(x) : x;

    private static void ArgReduce(bool isMax, ArgReduceAttrs a, KernelContext c, in TensorArg input, in TensorArg y)
    {
        var x = ForwardStrided(c, input);
        var rt = Runtime(c);
        var indices = new TensorArg(c.Scratch(y.Size * sizeof(long)), TensorLayout.Contiguous(y.Shape), DType.Int64);
        GpuReduce.ArgReduce(rt, isMax, x, a.Axis, indices);
        // MXNet returns indices in the input's dtype (float32 for float input).
        GpuLayout.Cast(rt, indices, y);
    }
}
