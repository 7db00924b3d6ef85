using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>Axes to reduce (empty: all) and whether reduced axes stay as size 1.</summary>
public sealed record ReduceAttrs(Dims Axes, bool KeepDims = false) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axes.Length == 0 ? "None" : Format.Tuple(Axes), ["keepdims"] = Format.Bool(KeepDims),
    };

}

public sealed record ArgReduceAttrs(int Axis, bool KeepDims = false) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axis.ToString(), ["keepdims"] = Format.Bool(KeepDims),
    };
}

public sealed record BroadcastToAttrs(Dims Shape) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["shape"] = Format.Tuple(Shape) };

}

/// <summary>Reductions over any set of axes, argmax/argmin, and broadcast_to (their gradient's partner).</summary>
[OpTable]
public static class ReductionOps
{
    public static readonly OpDef<ReduceAttrs> Sum = Reduction(ReduceOp.Sum,
        static (a, i, _, g, _) => [BroadcastBack(a, g[0], i[0].Shape)]);

    public static readonly OpDef<ReduceAttrs> Mean = Reduction(ReduceOp.Mean,
        static (a, i, o, g, _) =>
        {
            double count = (double)i[0].Size / Math.Max(1, o[0].Size);
            return [(BroadcastBack(a, g[0], i[0].Shape) / count)];
        });

    /// <summary>max and min pass the gradient to every element equal to the extreme (as MXNet does).</summary>
    public static readonly OpDef<ReduceAttrs> Max = Reduction(ReduceOp.Max, ExtremeGradient);

    public static readonly OpDef<ReduceAttrs> Min = Reduction(ReduceOp.Min, ExtremeGradient);

    /// <summary>d prod / dx_i = prod / x_i (undefined where x_i == 0).</summary>
    public static readonly OpDef<ReduceAttrs> Prod = Reduction(ReduceOp.Prod,
        static (a, i, o, g, _) => [(BroadcastBack(a, g[0], i[0].Shape) * BroadcastBack(a, o[0], i[0].Shape) / i[0])]);

    /// <summary>L2 norm; d ||x|| / dx = x / ||x||.</summary>
    public static readonly OpDef<ReduceAttrs> Norm = Reduction(ReduceOp.Norm,
        static (a, i, o, g, _) => [(BroadcastBack(a, g[0], i[0].Shape) * i[0] / BroadcastBack(a, o[0], i[0].Shape))]);

    public static readonly OpDef<ArgReduceAttrs> ArgMax = ArgReduction("argmax", true);

    public static readonly OpDef<ArgReduceAttrs> ArgMin = ArgReduction("argmin", false);

    /// <summary>Materialises a broadcast (stride-0) view; its gradient sums back.</summary>
    public static readonly OpDef<BroadcastToAttrs> BroadcastTo = new("broadcast_to", 1, 1,
        (a, t) =>
        {
            var target = new Shape(a.Shape);
            var shape = ShapeRules.Broadcast("broadcast_to", t[0].Shape, target);
            if (shape != target)
                throw new ArgumentException(
                    $"broadcast_to: cannot broadcast {t[0].Shape} to {target}; each input dim must equal the " +
                    "target dim or be 1.");
            return [new TensorType(target, t[0].DType)];
        },
        FusionClass.Injective,
        static (_, i, _, g, _) => [Gradients.SumTo(g[0], i[0].Shape)]) { Saves = SavedValues.Nothing };

    private static OpDef<ReduceAttrs> Reduction(ReduceOp op, GradientRule<ReduceAttrs> gradient)
    {
        string name = CpuReduce.OpName(op);
        return new OpDef<ReduceAttrs>(name, 1, 1,
            (a, t) =>
            {
                if (op is ReduceOp.Mean or ReduceOp.Norm or ReduceOp.NormL1) ShapeRules.RequireFloat(name, t[0]);
                else ShapeRules.RequireNumeric(name, t[0]);
                return [new TensorType(CpuReduce.ReducedShape(op, t[0].Shape, a.Axes, a.KeepDims), t[0].DType)];
            },
            FusionClass.Reduction, gradient);
    }

    private static OpDef<ArgReduceAttrs> ArgReduction(string name, bool isMax) => new(name, 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireNumeric(name, t[0]);
            int axis = t[0].Shape.NormalizeAxis(a.Axis, name);
            return [new TensorType(CpuReduce.ReducedShape(t[0].Shape, [axis], a.KeepDims, name), t[0].DType)];
        },
        FusionClass.Reduction);

    /// <summary>Reshapes a reduced array to keepdims form and broadcasts it to the input shape.</summary>
    internal static NDArray BroadcastBack(ReduceAttrs a, NDArray reduced, Shape inputShape)
    {
        var keep = CpuReduce.ReducedShape(inputShape, a.Axes, keepDims: true);
        return (Nd.BroadcastTo(reduced.Reshape(keep), inputShape));
    }

    private static NDArray?[] ExtremeGradient(ReduceAttrs a, NDArray[] i, NDArray[] o, NDArray[] g, bool[] r) =>
        [(BroadcastBack(a, g[0], i[0].Shape) * Nd.Equal(i[0], BroadcastBack(a, o[0], i[0].Shape)))];
}
