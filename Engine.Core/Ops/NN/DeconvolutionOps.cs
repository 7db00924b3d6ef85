using Engine.Kernels;

namespace Engine.Ops;

/// <summary>
/// MXNet Deconvolution attributes (the transposed convolution; NCW, NCHW or NCDHW). The kernel size comes from the
/// weight (C_in, F / groups, k...), and the number of filters F from the weight and the groups. Each output extent is
/// stride * (in - 1) + dilate * (k - 1) + 1 - 2 * pad + adj. A non-empty <see cref="TargetShape"/> with a nonzero
/// value replaces pad and adj, as MXNet does: total = stride * (in - 1) + dilate * (k - 1) + 1 - target,
/// adj = total % 2, pad = (total + 1) / 2, so the output is exactly the target.
/// </summary>
public sealed record DeconvolutionAttrs(Dims Stride, Dims Pad, Dims Dilate, Dims Adj, Dims TargetShape = default,
    int NumGroup = 1, bool NoBias = false) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["stride"] = Format.Tuple(Stride), ["pad"] = Format.Tuple(Pad), ["dilate"] = Format.Tuple(Dilate),
        ["adj"] = Format.Tuple(Adj), ["target_shape"] = Format.Tuple(TargetShape),
        ["num_group"] = NumGroup.ToString(), ["no_bias"] = Format.Bool(NoBias),
    };

    /// <summary>conv1d_transpose, conv2d_transpose or conv3d_transpose: the name errors start with.</summary>
    internal static string OpName(int rank) => $"conv{Math.Clamp(rank - 2, 1, 3)}d_transpose";

    /// <summary>
    /// Validates data x (N, C_in, spatial...) and weight w (C_in, F / groups, k...) and returns the output shape
    /// with the padding and output padding (adj) in effect.
    /// </summary>
    internal (Shape Output, int[] Pad, int[] Adj) Resolve(Shape x, Shape w)
    {
        string op = OpName(x.Rank);
        if (x.Rank is not (3 or 4 or 5))
            throw new ArgumentException(
                $"{op}: input must be 3-D (N, C, W), 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got shape {x}.");
        int spatial = x.Rank - 2;
        if (w.Rank != x.Rank)
            throw new ArgumentException(
                $"{op}: weight must be {x.Rank}-D (in_channels, channels / groups, kernel...) like the input {x}, " +
                $"got shape {w}.");
        if (NumGroup < 1)
            throw new ArgumentException($"{op}: num_group must be positive, got {NumGroup}; use 1 for no groups.");
        if (x[1] != w[0])
            throw new ArgumentException(
                $"{op}: input has {x[1]} channels but the weight {w} expects {w[0]} (its first dimension is the " +
                "input channels); pass an input with that many channels or a weight made for this input.");
        if (w[0] % NumGroup != 0)
            throw new ArgumentException(
                $"{op}: input channels {w[0]} are not divisible by num_group {NumGroup}; use a number of groups " +
                "that divides both the input and the output channels.");
        int[] stride = PerAxis(op, "stride", Stride, spatial, 1, 1);
        int[] dilate = PerAxis(op, "dilate", Dilate, spatial, 1, 1);
        int[] pad = PerAxis(op, "pad", Pad, spatial, 0, 0);
        int[] adj = PerAxis(op, "adj", Adj, spatial, 0, 0);
        int[] target = PerAxis(op, "target_shape", TargetShape, spatial, 0, 0);
        bool useTarget = target.Any(t => t != 0);
        var output = new int[spatial];
        for (int a = 0; a < spatial; a++)
        {
            long full = (long)stride[a] * (x[2 + a] - 1) + (long)dilate[a] * (w[2 + a] - 1) + 1;
            if (useTarget)
            {
                long total = full - target[a];
                if (total < 0)
                    throw new ArgumentException(
                        $"{op}: target_shape {Format.Tuple(target)} is too big: axis {a} can reach at most {full} " +
                        $"from input {x} with this kernel, stride and dilation.");
                adj[a] = (int)(total % 2);
                pad[a] = (int)((total + 1) / 2);
            }
            if (adj[a] >= stride[a])
                throw new ArgumentException(
                    $"{op}: output padding (adj) {Format.Tuple(adj)} must be smaller than the stride " +
                    $"{Format.Tuple(stride)} on every axis; use a smaller output padding or a larger stride.");
            long extent = full - 2L * pad[a] + adj[a];
            if (extent < 1 || extent > int.MaxValue)
                throw new ArgumentException(
                    $"{op}: the output would have extent {extent} on spatial axis {a} (input {x}, weight {w}, stride " +
                    $"{Format.Tuple(stride)}, pad {Format.Tuple(pad)}, dilate {Format.Tuple(dilate)}, adj " +
                    $"{Format.Tuple(adj)}); use less padding.");
            output[a] = (int)extent;
        }
        return (new Shape([x[0], w[1] * NumGroup, .. output]), pad, adj);
    }

    /// <summary>
    /// The convolution this op is the data gradient of: data = this op's output, output = this op's input. Its
    /// forward is this op's data gradient, its weight gradient this op's weight gradient.
    /// </summary>
    internal ConvolutionAttrs Convolution(Shape x, Shape w)
    {
        var (_, pad, _) = Resolve(x, w);
        int spatial = x.Rank - 2;
        return new ConvolutionAttrs(PerAxis("", "", Stride, spatial, 1, 1), pad,
            PerAxis("", "", Dilate, spatial, 1, 1), NumGroup, NoBias: true);
    }

    private static int[] PerAxis(string op, string name, Dims values, int spatial, int fallback, int min)
    {
        int[] result = values.Length switch
        {
            0 => Enumerable.Repeat(fallback, spatial).ToArray(),
            1 => Enumerable.Repeat(values[0], spatial).ToArray(),
            _ when values.Length == spatial => values.ToArray(),
            _ => throw new ArgumentException(
                $"{op}: {name} {Format.Tuple(values)} has {values.Length} values but the input has {spatial} " +
                "spatial dimensions; give one value per spatial dimension."),
        };
        if (result.Any(v => v < min))
            throw new ArgumentException($"{op}: {name} {Format.Tuple(values)} must be at least {min} on every axis.");
        return result;
    }
}

[OpTable]
public static class DeconvolutionOps
{
    /// <summary>
    /// MXNet's Deconvolution (transposed convolution). Inputs data (N, C_in, spatial...), weight
    /// (C_in, F / groups, kernel...) and, unless NoBias, bias (F). The forward is the data gradient of the convolution
    /// that maps the output back to the input, and the gradients are that convolution's forward and weight gradient.
    /// </summary>
    public static readonly OpDef<DeconvolutionAttrs> Deconvolution = new("deconvolution", -1, 1,
        (a, t) =>
        {
            string op = DeconvolutionAttrs.OpName(t.Length > 0 ? t[0].Shape.Rank : 4);
            int expected = a.NoBias ? 2 : 3;
            if (t.Length != expected)
                throw new ArgumentException(
                    $"{op}: expects {expected} inputs (data, weight{(a.NoBias ? "" : ", bias")}), got {t.Length}.");
            ShapeRules.RequireFloat(op, t[0]);
            for (int k = 1; k < t.Length; k++) ShapeRules.RequireSameDType(op, t[0], t[k]);
            var (output, _, _) = a.Resolve(t[0].Shape, t[1].Shape);
            var biasShape = new Shape(output[1]);
            if (!a.NoBias && t[2].Shape != biasShape)
                throw new ArgumentException($"{op}: bias has shape {t[2].Shape} but needs {biasShape}.");
            return [new TensorType(output, t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        {
            var result = new NDArray?[i.Length];
            var conv = a.Convolution(i[0].Shape, i[1].Shape);
            if (r[0]) result[0] = ConvolutionOps.Convolution.Call(conv, g[0], i[1]);
            if (r[1])
                result[1] = ConvolutionOps.ConvolutionBackwardWeight.Call(
                    new ConvolutionBackwardAttrs(conv, i[1].Shape.ToArray()), g[0], i[0]);
            if (!a.NoBias && r[2]) result[2] = ConvolutionOps.ConvolutionBackwardBias.Call(NoAttrs.Instance, g[0]);
            return result;
        })
    {
        // The gradients read the data and the weight; the output and the bias are not kept.
        Saves = SavedValues.Inputs(0, 1),
    };
}
