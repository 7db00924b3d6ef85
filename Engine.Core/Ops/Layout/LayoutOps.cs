using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

public sealed record ConcatAttrs(int Axis) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["dim"] = Axis.ToString() };
}

public sealed record SplitAttrs(int Axis, Dims Sizes) : OpAttrs
{

}

public sealed record TakeAttrs(int Axis, TakeMode Mode) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axis.ToString(), ["mode"] = Mode.ToString().ToLowerInvariant(),
    };
}

public sealed record TakeBackwardAttrs(TakeAttrs Take, Dims DataShape) : OpAttrs
{

}

public sealed record OneHotAttrs(int Depth, double OnValue = 1, double OffValue = 0, DType DType = DType.Float32)
    : OpAttrs;

public sealed record PadAttrs(PadMode Mode, Dims Before, Dims After, double Value = 0) : OpAttrs
{

}

/// <summary>Concat, split, take (and embedding), one-hot and pad.</summary>
[OpTable]
public static class LayoutOps
{
    public static readonly OpDef<ConcatAttrs> Concat = new("concat", -1, 1,
        (a, t) =>
        {
            if (t.Length == 0) throw new ArgumentException("concat: needs at least one input.");
            for (int i = 1; i < t.Length; i++) ShapeRules.RequireSameDType("concat", t[0], t[i]);
            return [new TensorType(CpuLayout.ConcatShape(t.Select(x => x.Shape).ToList(), a.Axis), t[0].DType)];
        },
        FusionClass.Injective,
        static (a, i, _, g, r) =>
        {
            int axis = g[0].Shape.NormalizeAxis(a.Axis, "concat");
            var result = new NDArray?[i.Length];
            int offset = 0;
            for (int k = 0; k < i.Length; k++)
            {
                int n = i[k].Shape[axis];
                if (r[k]) result[k] = g[0].SliceAxis(axis, offset, offset + n);
                offset += n;
            }
            return result;
        });

    public static readonly OpDef<TakeAttrs> Take = new("take", 2, 1,
        (a, t) =>
        {
            if (t[1].DType == DType.Float16 || t[1].DType == DType.Bool)
                throw new ArgumentException($"take: indices must be integer or float32/64, got {t[1].DType.Name()}.");
            int axis = t[0].Shape.NormalizeAxis(a.Axis, "take");
            return [new TensorType(CpuLayout.TakeShape(t[0].Shape, t[1].Shape, axis), t[0].DType)];
        },
        FusionClass.Injective,
        static (a, i, _, g, r) => [r[0] ? TakeBackward!.Call(new TakeBackwardAttrs(a, i[0].Shape.ToArray()), g[0], i[1])
            : null, null]);

    /// <summary>Inputs dy and indices; output d(data): dy scattered and summed into the taken rows.</summary>
    public static readonly OpDef<TakeBackwardAttrs> TakeBackward = new("_backward_take", 2, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat("take", t[0]);
            return [new TensorType(new Shape(a.DataShape), t[0].DType)];
        });

    public static readonly OpDef<OneHotAttrs> OneHot = new("one_hot", 1, 1,
        (a, t) =>
        {
            if (a.Depth <= 0) throw new ArgumentException($"one_hot: depth must be positive, got {a.Depth}.");
            return [new TensorType(new Shape([.. t[0].Shape.Dims, a.Depth]), a.DType)];
        });

    public static readonly OpDef<PadAttrs> Pad = new("pad", 1, 1,
        (a, t) => [new TensorType(CpuLayout.PadShape(t[0].Shape, a.Before, a.After, a.Mode), t[0].DType)],
        FusionClass.Injective,
        static (a, i, _, g, _) => [PadBackward!.Call(a, g[0])]);

    public static readonly OpDef<PadAttrs> PadBackward = new("_backward_pad", 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat("pad", t[0]);
            var dims = t[0].Shape.ToArray();
            for (int k = 0; k < dims.Length; k++) dims[k] -= a.Before[k] + a.After[k];
            return [new TensorType(new Shape(dims), t[0].DType)];
        });

    /// <summary>Indices of any numeric dtype as longs (MXNet passes them as float32).</summary>
    internal static long[] Indices(NDArray indices)
    {
        if (indices.DType == DType.Int64) return indices.ToArray<long>();
        if (indices.DType.IsFloatingPoint())
        {
            var values = indices.ToArray<double>();
            var result = new long[values.Length];
            for (int k = 0; k < values.Length; k++)
            {
                if (double.IsNaN(values[k]) || values[k] != Math.Floor(values[k]))
                    throw new ArgumentException($"take: index {values[k]} at position {k} is not an integer.");
                result[k] = (long)values[k];
            }
            return result;
        }
        return indices.ToArray<long>();
    }
}
