using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

public sealed record ConcatAttrs(int Axis) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["dim"] = Axis.ToString() };
}

public sealed record SplitAttrs(int Axis, int[] Sizes) : OpAttrs
{
    public bool Equals(SplitAttrs? o) => o is not null && Axis == o.Axis && Sizes.SequenceEqual(o.Sizes);

    public override int GetHashCode() => HashCode.Combine(Axis, Sizes.Length);
}

public sealed record TakeAttrs(int Axis, TakeMode Mode) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axis.ToString(), ["mode"] = Mode.ToString().ToLowerInvariant(),
    };
}

public sealed record TakeBackwardAttrs(TakeAttrs Take, int[] DataShape) : OpAttrs
{
    public bool Equals(TakeBackwardAttrs? o) => o is not null && Take == o.Take && DataShape.SequenceEqual(o.DataShape);

    public override int GetHashCode() => HashCode.Combine(Take, DataShape.Length);
}

public sealed record OneHotAttrs(int Depth, double OnValue = 1, double OffValue = 0, DType DType = DType.Float32)
    : OpAttrs;

public sealed record PadAttrs(PadMode Mode, int[] Before, int[] After, double Value = 0) : OpAttrs
{
    public bool Equals(PadAttrs? o) => o is not null && Mode == o.Mode && Before.SequenceEqual(o.Before) &&
                                       After.SequenceEqual(o.After) && Value.Equals(o.Value);

    public override int GetHashCode() => HashCode.Combine(Mode, Before.Length, Value);
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
        ElementwiseOps.Cpu<ConcatAttrs>((a, inputs, o) =>
        {
            var y = o[0];
            int axis = y.Shape.NormalizeAxis(a.Axis, "concat");
            var strides = y.Shape.ContiguousStrides();
            long offset = y.Offset;
            foreach (var x in inputs)
            {
                CopyOps.StridedCopy(x, x.Layout, y, new TensorLayout(x.Shape, strides, offset));
                offset += x.Shape[axis] * strides[axis];
            }
        }),
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
        ElementwiseOps.Cpu<TakeAttrs>((a, i, o) =>
        {
            using var dataLease = i[0].Contiguous();
            var data = dataLease.Array;
            var indices = Indices(i[1]);
            int axis = data.Shape.NormalizeAxis(a.Axis, "take");
            switch (data.DType.SizeInBytes())
            {
                case 1: CpuLayout.Take<byte>(data.RawAsSpan<byte>(), data.Shape, indices, axis, a.Mode, o[0].RawAsSpan<byte>()); break;
                case 2: CpuLayout.Take<short>(data.RawAsSpan<short>(), data.Shape, indices, axis, a.Mode, o[0].RawAsSpan<short>()); break;
                case 4: CpuLayout.Take<int>(data.RawAsSpan<int>(), data.Shape, indices, axis, a.Mode, o[0].RawAsSpan<int>()); break;
                default: CpuLayout.Take<long>(data.RawAsSpan<long>(), data.Shape, indices, axis, a.Mode, o[0].RawAsSpan<long>()); break;
            }
        }),
        FusionClass.Injective,
        static (a, i, _, g, r) => [r[0] ? TakeBackward!.Call(new TakeBackwardAttrs(a, i[0].Shape.ToArray()), g[0], i[1])
            : null, null]);

    /// <summary>Inputs dy and indices; output d(data): dy scattered and summed into the taken rows.</summary>
    public static readonly OpDef<TakeBackwardAttrs> TakeBackward = new("_backward_take", 2, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat("take", t[0]);
            return [new TensorType(new Shape(a.DataShape), t[0].DType)];
        },
        ElementwiseOps.Cpu<TakeBackwardAttrs>((a, i, o) =>
        {
            using var dyLease = i[0].Contiguous();
            var dy = dyLease.Array;
            var indices = Indices(i[1]);
            var shape = new Shape(a.DataShape);
            int axis = shape.NormalizeAxis(a.Take.Axis, "take");
            if (dy.DType == DType.Float32)
                CpuLayout.TakeBackward(dy.AsSpan<float>(), indices, shape, axis, a.Take.Mode, o[0].AsSpan<float>());
            else
                CpuLayout.TakeBackward(dy.AsSpan<double>(), indices, shape, axis, a.Take.Mode, o[0].AsSpan<double>());
        }));

    public static readonly OpDef<OneHotAttrs> OneHot = new("one_hot", 1, 1,
        (a, t) =>
        {
            if (a.Depth <= 0) throw new ArgumentException($"one_hot: depth must be positive, got {a.Depth}.");
            return [new TensorType(new Shape([.. t[0].Shape.Dims, a.Depth]), a.DType)];
        },
        ElementwiseOps.Cpu<OneHotAttrs>((a, i, o) =>
        {
            var idx = Indices(i[0], "one_hot");
            switch (a.DType)
            {
                case DType.Float32: CpuLayout.OneHot(idx, a.Depth, (float)a.OnValue, (float)a.OffValue, o[0].AsSpan<float>()); break;
                case DType.Float64: CpuLayout.OneHot(idx, a.Depth, a.OnValue, a.OffValue, o[0].AsSpan<double>()); break;
                case DType.Int32: CpuLayout.OneHot(idx, a.Depth, (int)a.OnValue, (int)a.OffValue, o[0].AsSpan<int>()); break;
                case DType.Int64: CpuLayout.OneHot(idx, a.Depth, (long)a.OnValue, (long)a.OffValue, o[0].AsSpan<long>()); break;
                default: throw new ArgumentException($"one_hot: output dtype {a.DType.Name()} is not supported.");
            }
        }));

    public static readonly OpDef<PadAttrs> Pad = new("pad", 1, 1,
        (a, t) => [new TensorType(CpuLayout.PadShape(t[0].Shape, a.Before, a.After, a.Mode), t[0].DType)],
        ElementwiseOps.Cpu<PadAttrs>((a, i, o) =>
        {
            using var xLease = i[0].Contiguous();
            var x = xLease.Array;
            switch (x.DType)
            {
                case DType.Float32: CpuLayout.Pad(x.AsSpan<float>(), x.Shape, a.Before, a.After, a.Mode, (float)a.Value, o[0].AsSpan<float>()); break;
                case DType.Float64: CpuLayout.Pad(x.AsSpan<double>(), x.Shape, a.Before, a.After, a.Mode, a.Value, o[0].AsSpan<double>()); break;
                case DType.Int32: CpuLayout.Pad(x.AsSpan<int>(), x.Shape, a.Before, a.After, a.Mode, (int)a.Value, o[0].AsSpan<int>()); break;
                case DType.Int64: CpuLayout.Pad(x.AsSpan<long>(), x.Shape, a.Before, a.After, a.Mode, (long)a.Value, o[0].AsSpan<long>()); break;
                default: throw new ArgumentException($"pad: dtype {x.DType.Name()} is not supported.");
            }
        }),
        FusionClass.Injective,
        static (a, i, _, g, _) => [PadBackward!.Call(a, g[0])]);

    public static readonly OpDef<PadAttrs> PadBackward = new("_backward_pad", 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat("pad", t[0]);
            var dims = t[0].Shape.ToArray();
            for (int k = 0; k < dims.Length; k++) dims[k] -= a.Before[k] + a.After[k];
            return [new TensorType(new Shape(dims), t[0].DType)];
        },
        ElementwiseOps.Cpu<PadAttrs>((a, i, o) =>
        {
            using var dyLease = i[0].Contiguous();
            var dy = dyLease.Array;
            if (dy.DType == DType.Float32)
                CpuLayout.PadBackward(dy.AsSpan<float>(), o[0].Shape, a.Before, a.After, a.Mode, o[0].AsSpan<float>());
            else
                CpuLayout.PadBackward(dy.AsSpan<double>(), o[0].Shape, a.Before, a.After, a.Mode, o[0].AsSpan<double>());
        }));

    /// <summary>Indices of any numeric dtype as longs (MXNet passes them as float32).</summary>
    internal static long[] Indices(NDArray indices, string op = "take")
    {
        if (indices.DType == DType.Int64) return indices.ToArray<long>();
        if (indices.DType.IsFloatingPoint())
        {
            var values = indices.ToArray<double>();
            var result = new long[values.Length];
            for (int k = 0; k < values.Length; k++)
            {
                if (double.IsNaN(values[k]) || values[k] != Math.Floor(values[k]))
                    throw new ArgumentException($"{op}: index {values[k]} at position {k} is not an integer.");
                result[k] = (long)values[k];
            }
            return result;
        }
        return indices.ToArray<long>();
    }
}
