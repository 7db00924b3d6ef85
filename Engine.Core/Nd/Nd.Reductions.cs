using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    /// <summary>Sum over <paramref name="axes"/> (all axes when none are given).</summary>
    public static NDArray Sum(NDArray x, int[]? axes = null, bool keepDims = false) =>
        ReductionOps.Sum.Call(new ReduceAttrs(axes ?? [], keepDims), x);

    public static NDArray Sum(NDArray x, int axis, bool keepDims = false) => Sum(x, [axis], keepDims);

    public static NDArray Mean(NDArray x, int[]? axes = null, bool keepDims = false) =>
        ReductionOps.Mean.Call(new ReduceAttrs(axes ?? [], keepDims), x);

    public static NDArray Mean(NDArray x, int axis, bool keepDims = false) => Mean(x, [axis], keepDims);

    public static NDArray Max(NDArray x, int[]? axes = null, bool keepDims = false) =>
        ReductionOps.Max.Call(new ReduceAttrs(axes ?? [], keepDims), x);

    public static NDArray Max(NDArray x, int axis, bool keepDims = false) => Max(x, [axis], keepDims);

    public static NDArray Min(NDArray x, int[]? axes = null, bool keepDims = false) =>
        ReductionOps.Min.Call(new ReduceAttrs(axes ?? [], keepDims), x);

    public static NDArray Min(NDArray x, int axis, bool keepDims = false) => Min(x, [axis], keepDims);

    public static NDArray Prod(NDArray x, int[]? axes = null, bool keepDims = false) =>
        ReductionOps.Prod.Call(new ReduceAttrs(axes ?? [], keepDims), x);

    /// <summary>The L2 norm over <paramref name="axes"/> (all when none).</summary>
    public static NDArray Norm(NDArray x, int[]? axes = null, bool keepDims = false) =>
        ReductionOps.Norm.Call(new ReduceAttrs(axes ?? [], keepDims), x);

    /// <summary>Index of the largest value along an axis (first on ties), in the input's dtype as MXNet does.</summary>
    public static NDArray ArgMax(NDArray x, int axis, bool keepDims = false) =>
        ReductionOps.ArgMax.Call(new ArgReduceAttrs(axis, keepDims), x);

    public static NDArray ArgMin(NDArray x, int axis, bool keepDims = false) =>
        ReductionOps.ArgMin.Call(new ArgReduceAttrs(axis, keepDims), x);

    public static NDArray BroadcastTo(NDArray x, Shape shape) =>
        ReductionOps.BroadcastTo.Call(new BroadcastToAttrs(shape.ToArray()), x);
}
