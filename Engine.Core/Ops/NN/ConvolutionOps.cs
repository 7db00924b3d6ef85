using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>MXNet Convolution attributes (NCW, NCHW or NCDHW); kernel size comes from the weight.</summary>
/// <param name="Activation">An activation the kernel applies to its output (set by the fusion pass only).</param>
public sealed record ConvolutionAttrs(Dims Stride, Dims Pad, Dims Dilate, int NumGroup = 1, bool NoBias = false,
    EpilogueActivation Activation = EpilogueActivation.None) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary()
    {
        var d = new Dictionary<string, string>
        {
            ["stride"] = Format.Tuple(Stride), ["pad"] = Format.Tuple(Pad), ["dilate"] = Format.Tuple(Dilate),
            ["num_group"] = NumGroup.ToString(), ["no_bias"] = Format.Bool(NoBias),
        };
        if (Activation != EpilogueActivation.None) d["fused_activation"] = Activation.ToString().ToLowerInvariant();
        return d;
    }


    internal ConvolutionDescriptor Describe(Shape x, Shape w) =>
        ConvolutionDescriptor.FromShapes(x, w, Stride, Pad, Dilate, NumGroup);

    /// <summary>The 3-D kernel descriptor, for a 5-D input (N, C, D, H, W).</summary>
    internal Convolution3DDescriptor Describe3D(Shape x, Shape w) =>
        Convolution3DDescriptor.FromShapes(x, w, Stride, Pad, Dilate, NumGroup);

    /// <summary>The output shape for data x and weight w, validated by the 1-D/2-D or the 3-D descriptor.</summary>
    internal Shape OutputShape(Shape x, Shape w) =>
        x.Rank == 5 ? Describe3D(x, w).OutputShape : Describe(x, w).OutputShape;
}

public sealed record ConvolutionBackwardAttrs(ConvolutionAttrs Conv, Dims OtherShape) : OpAttrs
{

}

[OpTable]
public static class ConvolutionOps
{
    /// <summary>
    /// Inputs data (N, C, spatial...), weight (K, C/groups, kernel...) and, unless NoBias, bias (K); 1, 2 or 3
    /// spatial dimensions.
    /// </summary>
    public static readonly OpDef<ConvolutionAttrs> Convolution = new("convolution", -1, 1,
        (a, t) =>
        {
            int expected = a.NoBias ? 2 : 3;
            if (t.Length != expected)
                throw new ArgumentException(
                    $"convolution: expects {expected} inputs (data, weight{(a.NoBias ? "" : ", bias")}), " +
                    $"got {t.Length}.");
            ShapeRules.RequireFloat("convolution", t[0]);
            for (int k = 1; k < t.Length; k++) ShapeRules.RequireSameDType("convolution", t[0], t[k]);
            var output = a.OutputShape(t[0].Shape, t[1].Shape);
            var biasShape = new Shape(t[1].Shape[0]);
            if (!a.NoBias && t[2].Shape != biasShape)
                throw new ArgumentException(
                    $"conv{t[0].Shape.Rank - 2}d: bias has shape {t[2].Shape} but needs {biasShape}.");
            return [new TensorType(output, t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        {
            Epilogues.RequireNone("convolution", a.Activation);
            var result = new NDArray?[i.Length];
            if (r[0])
                result[0] = ConvolutionBackwardData!.Call(new ConvolutionBackwardAttrs(a, i[0].Shape.ToArray()), g[0],
                    i[1]);
            if (r[1])
                result[1] = ConvolutionBackwardWeight!.Call(new ConvolutionBackwardAttrs(a, i[1].Shape.ToArray()), i[0],
                    g[0]);
            if (!a.NoBias && r[2]) result[2] = ConvolutionBackwardBias!.Call(NoAttrs.Instance, g[0]);
            return result;
        });

    /// <summary>Input dy (N, K, spatial...); output the bias gradient (K): dy summed over batch and space.</summary>
    public static readonly OpDef<NoAttrs> ConvolutionBackwardBias = new("_backward_convolution_bias", 1, 1,
        (_, t) =>
        {
            ShapeRules.RequireFloat("convolution", t[0]);
            if (t[0].Shape.Rank < 3)
                throw new ArgumentException($"convolution: the output gradient must be (N, K, ...), got {t[0].Shape}.");
            return [new TensorType(new Shape(t[0].Shape[1]), t[0].DType)];
        },
        FusionClass.Reduction,
        // The bias gradient is linear in dy: its gradient broadcasts g back over batch and space.
        static (_, i, _, g, _) =>
        {
            var shape = Enumerable.Repeat(1, i[0].Rank).ToArray();
            shape[1] = i[0].Shape[1];
            return [Nd.BroadcastTo(g[0].Reshape(shape), i[0].Shape)];
        });

    /// <summary>Inputs dy and weight; output dx of the data shape given in the attributes.</summary>
    public static readonly OpDef<ConvolutionBackwardAttrs> ConvolutionBackwardData = new(
        "_backward_convolution_data", 2, 1,
        (a, t) => [new TensorType(new Shape(a.OtherShape), t[0].DType)]);

    /// <summary>Inputs x and dy; output dw of the weight shape given in the attributes.</summary>
    public static readonly OpDef<ConvolutionBackwardAttrs> ConvolutionBackwardWeight = new(
        "_backward_convolution_weight", 2, 1,
        (a, t) => [new TensorType(new Shape(a.OtherShape), t[0].DType)]);
}
