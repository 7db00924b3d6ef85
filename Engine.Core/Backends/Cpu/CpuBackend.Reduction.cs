using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
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
            Register(op, (a, c, i, o) => Reduce(reduce, a, c, i[0], o[0]));
        }
        Register(ReductionOps.ArgMax, static (a, c, i, o) => ArgReduce(true, a, c, i[0], o[0], "argmax"));
        Register(ReductionOps.ArgMin, static (a, c, i, o) => ArgReduce(false, a, c, i[0], o[0], "argmin"));
    }

    /// <summary>The reduction drivers take any layout with non-negative strides; reversed views are copied.</summary>
    private static TensorArg ForwardStrided(KernelContext c, in TensorArg x) =>
        x.Layout.Strides.Any(s => s < 0) ? c.Contiguous(x) : x;

    private static void Reduce(ReduceOp op, ReduceAttrs a, KernelContext c, in TensorArg input, in TensorArg y)
    {
        var x = ForwardStrided(c, input);
        switch (x.DType)
        {
            case DType.Float32: CpuReduce.Reduce(op, x.Buffer<float>(), x.Layout, a.Axes, y.Span<float>()); break;
            case DType.Float64: CpuReduce.Reduce(op, x.Buffer<double>(), x.Layout, a.Axes, y.Span<double>()); break;
            case DType.Int32: CpuReduce.Reduce(op, x.Buffer<int>(), x.Layout, a.Axes, y.Span<int>()); break;
            case DType.Int64: CpuReduce.Reduce(op, x.Buffer<long>(), x.Layout, a.Axes, y.Span<long>()); break;
            default:
                throw new NotSupportedException(
                    $"{CpuReduce.OpName(op)}: dtype {x.DType.Name()} is not supported.");
        }
    }

    private static void ArgReduce(bool isMax, ArgReduceAttrs a, KernelContext c, in TensorArg input, in TensorArg y,
        string name)
    {
        var x = ForwardStrided(c, input);
        int axis = x.Shape.NormalizeAxis(a.Axis, name);
        var indices = new long[y.Size];
        switch (x.DType)
        {
            case DType.Float32: CpuReduce.ArgReduce(isMax, x.Buffer<float>(), x.Layout, axis, indices); break;
            case DType.Float64: CpuReduce.ArgReduce(isMax, x.Buffer<double>(), x.Layout, axis, indices); break;
            case DType.Int32: CpuReduce.ArgReduce(isMax, x.Buffer<int>(), x.Layout, axis, indices); break;
            default: CpuReduce.ArgReduce(isMax, x.Buffer<long>(), x.Layout, axis, indices); break;
        }
        // MXNet returns indices in the input's dtype (float32 for float input).
        switch (x.DType)
        {
            case DType.Float32: CpuLayout.Cast<long, float>(indices, y.Elements<float>()); break;
            case DType.Float64: CpuLayout.Cast<long, double>(indices, y.Elements<double>()); break;
            case DType.Int32: CpuLayout.Cast<long, int>(indices, y.Elements<int>()); break;
            default: indices.CopyTo(y.Elements<long>()); break;
        }
    }
}
