namespace Engine.Ops;

public sealed record ReshapeAttrs(Dims Spec) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["shape"] = Format.Tuple(Spec) };

}

public sealed record TransposeAttrs(Dims Axes) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["axes"] = Format.Tuple(Axes) };

}

/// <summary>begin/end/step along one axis (MXNet slice_axis with a step).</summary>
public sealed record SliceAxisAttrs(int Axis, int Begin, int End, int Step = 1) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axis.ToString(), ["begin"] = Begin.ToString(), ["end"] = End.ToString(),
    };
}

public sealed record SliceAxisBackwardAttrs(SliceAxisAttrs Slice, Dims InputShape) : OpAttrs
{

}

/// <summary>Operators that return a view of their input: reshape, transpose, slicing along an axis.</summary>
[OpTable]
public static class ViewOps
{
    public static readonly OpDef<ReshapeAttrs> Reshape = new("reshape",
        (a, t) => [new TensorType(InferReshape(t[0].Shape, a.Spec), t[0].DType)],
        (a, x, o) =>
        {
            if (x.IsContiguous) return x.View(o.Shape, o.Shape.ContiguousStrides(), x.Offset);
            using var c = x.Copy();
            return c.View(o.Shape, o.Shape.ContiguousStrides(), c.Offset);
        },
        static (_, i, _, g, _) => [g[0].Reshape(i[0].Shape)]);

    public static readonly OpDef<TransposeAttrs> Transpose = new("transpose",
        (a, t) => [new TensorType(TransposedShape(t[0].Shape, a.Axes), t[0].DType)],
        (a, x, o) =>
        {
            var axes = NormalizePermutation(x.Shape, a.Axes);
            var strides = axes.Select(ax => x.Strides[ax]).ToArray();
            return x.View(o.Shape, strides, x.Offset);
        },
        static (a, i, _, g, _) =>
        {
            var perm = NormalizePermutation(i[0].Shape, a.Axes);
            var inverse = new int[perm.Length];
            for (int k = 0; k < perm.Length; k++) inverse[perm[k]] = k;
            return [g[0].Transpose(inverse)];
        });

    public static readonly OpDef<SliceAxisAttrs> SliceAxis = new("slice_axis",
        (a, t) =>
        {
            var (_, _, count) = ResolveSlice(t[0].Shape, a);
            return [new TensorType(t[0].Shape.With(a.Axis, count), t[0].DType)];
        },
        (a, x, o) =>
        {
            var (axis, start, _) = ResolveSlice(x.Shape, a);
            var strides = (long[])x.Strides.Clone();
            strides[axis] *= a.Step;
            return x.View(o.Shape, strides, x.Offset + start * x.Strides[axis]);
        },
        static (a, i, _, g, _) => [SliceAxisBackward!.Call(new SliceAxisBackwardAttrs(a, i[0].Shape.ToArray()), g[0])]);

    /// <summary>The gradient of slice_axis: zeros of the input's shape with the slice set to the gradient.</summary>
    public static readonly OpDef<SliceAxisBackwardAttrs> SliceAxisBackward = new("_backward_slice_axis", 1, 1,
        (a, t) => [new TensorType(new Shape(a.InputShape), t[0].DType)],
        FusionClass.Injective,
        static (a, _, _, g, _) => [g[0].SliceAxis(a.Slice.Axis, a.Slice.Begin, a.Slice.End, a.Slice.Step)]);

    /// <summary>
    /// MXNet's reshape codes: 0 copies the input dim at that position, -1 infers one dim, -2 copies all remaining
    /// dims, -3 merges two consecutive input dims, -4 splits one input dim into the next two values (one may be -1).
    /// </summary>
    public static Shape InferReshape(Shape input, Dims spec)
    {
        var dims = new List<int>();
        int inferAt = -1, src = 0;
        for (int i = 0; i < spec.Length; i++)
        {
            int s = spec[i];
            switch (s)
            {
                case > 0:
                    dims.Add(s);
                    src++;
                    break;
                case 0:
                    if (src >= input.Rank) throw ReshapeError(input, spec, $"code 0 at position {i} has no input dim");
                    dims.Add(input[src++]);
                    break;
                case -1:
                    if (inferAt >= 0) throw ReshapeError(input, spec, "more than one -1");
                    inferAt = dims.Count;
                    dims.Add(1);
                    src++;
                    break;
                case -2:
                    while (src < input.Rank) dims.Add(input[src++]);
                    break;
                case -3:
                    if (src + 1 >= input.Rank) throw ReshapeError(input, spec, $"-3 at position {i} needs two dims");
                    dims.Add(input[src] * input[src + 1]);
                    src += 2;
                    break;
                case -4:
                    if (i + 2 >= spec.Length || src >= input.Rank)
                        throw ReshapeError(input, spec, $"-4 at position {i} needs two following values");
                    int d0 = spec[i + 1], d1 = spec[i + 2], whole = input[src++];
                    if (d0 == -1) d0 = d1 == 0 ? 0 : whole / d1;
                    if (d1 == -1) d1 = d0 == 0 ? 0 : whole / d0;
                    if (d0 * d1 != whole)
                        throw ReshapeError(input, spec, $"-4 cannot split {whole} into {d0} x {d1}");
                    dims.Add(d0);
                    dims.Add(d1);
                    i += 2;
                    break;
                default:
                    throw ReshapeError(input, spec, $"invalid code {s}");
            }
        }
        if (inferAt >= 0)
        {
            long known = 1;
            for (int i = 0; i < dims.Count; i++) if (i != inferAt) known *= dims[i];
            if (known == 0 || input.Size % known != 0)
                throw ReshapeError(input, spec, $"cannot infer the -1 dim: {input.Size} is not divisible by {known}");
            dims[inferAt] = (int)(input.Size / known);
        }
        var result = new Shape(dims.ToArray());
        if (result.Size != input.Size)
            throw ReshapeError(input, spec, $"the target has {result.Size} elements but the input has {input.Size}");
        return result;
    }

    private static ArgumentException ReshapeError(Shape input, Dims spec, string why) =>
        new($"reshape: cannot reshape {input} to ({string.Join(", ", spec)}): {why}. Codes: 0 copies a dim, " +
            "-1 infers one, -2 copies the rest, -3 merges two, -4 splits one.");

    public static Shape TransposedShape(Shape input, Dims axes)
    {
        var perm = NormalizePermutation(input, axes);
        return new Shape(perm.Select(a => input[a]).ToArray());
    }

    /// <summary>An empty list means reverse the axes, as NumPy and MXNet do.</summary>
    public static int[] NormalizePermutation(Shape input, Dims axes)
    {
        if (axes.Length == 0) return Enumerable.Range(0, input.Rank).Reverse().ToArray();
        if (axes.Length != input.Rank)
            throw new ArgumentException(
                $"transpose: axes ({string.Join(", ", axes)}) must list all {input.Rank} axes of shape {input}.");
        var perm = axes.Select(a => input.NormalizeAxis(a, "transpose")).ToArray();
        if (perm.Distinct().Count() != perm.Length)
            throw new ArgumentException($"transpose: axes ({string.Join(", ", axes)}) repeat an axis.");
        return perm;
    }

    /// <summary>Resolves negative and out-of-range bounds like Python slicing; returns (axis, start, count).</summary>
    public static (int Axis, int Start, int Count) ResolveSlice(Shape shape, SliceAxisAttrs a)
    {
        int axis = shape.NormalizeAxis(a.Axis, "slice_axis");
        int n = shape[axis];
        if (a.Step == 0) throw new ArgumentException("slice_axis: step must not be 0.");
        int Clamp(int v, int lo, int hi) => Math.Min(Math.Max(v, lo), hi);
        int begin = a.Begin < 0 ? a.Begin + n : a.Begin;
        int end = a.End < 0 ? a.End + n : a.End;
        int count;
        if (a.Step > 0)
        {
            begin = Clamp(begin, 0, n);
            end = Clamp(end, 0, n);
            count = end > begin ? (end - begin + a.Step - 1) / a.Step : 0;
        }
        else
        {
            begin = Clamp(begin, -1, n - 1);
            end = Clamp(end, -1, n - 1);
            count = begin > end ? (begin - end - a.Step - 1) / -a.Step : 0;
        }
        return (axis, count == 0 ? 0 : begin, count);
    }
}
