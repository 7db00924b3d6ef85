using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>ELU's attribute: the value alpha (exp(x) - 1) approaches for x to minus infinity (MXNet's slope).</summary>
public sealed record EluAttrs(double Alpha = 1) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["act_type"] = "elu", ["slope"] = Format.Number(Alpha) };
}

/// <summary>
/// The activations MXNet writes as LeakyReLU with an act_type (elu, selu, gelu, prelu). ELU, SELU and GELU are
/// elementwise (their struct operators run on every backend's elementwise driver); PReLU takes its slope as a
/// second input, one value per channel (axis 1) or one for all.
/// </summary>
[OpTable]
public static class ActivationOps
{
    private static readonly DType[] Float = [DType.Float32, DType.Float64];

    public static readonly OpDef<EluAttrs> Elu = new("elu",
        (a, t) =>
        {
            ShapeRules.RequireFloat("elu", t[0]);
            if (!double.IsFinite(a.Alpha))
                throw new ArgumentException($"elu: alpha must be finite, got {a.Alpha}; MXNet's default is 1.");
            return [t[0]];
        },
        new UnaryMath<EluAttrs, EluOperator<float>, EluOperator<double>, NoOperator<int>, NoOperator<long>>(
            a => (new((float)a.Alpha), new(a.Alpha), default, default), Float),
        FusionClass.Elementwise,
        // d/dx = 1 for x > 0, alpha exp(x) = y + alpha otherwise.
        static (a, i, o, g, _) => [Nd.Where(i[0] > 0, g[0], g[0] * (o[0] + a.Alpha))],
        inPlace: [(0, 0)]) { Saves = SavedValues.Of([0], [0]) };

    public static readonly OpDef<NoAttrs> Selu = new("selu",
        (_, t) =>
        {
            ShapeRules.RequireFloat("selu", t[0]);
            return [t[0]];
        },
        new UnaryMath<NoAttrs, SeluOperator<float>, SeluOperator<double>, NoOperator<int>, NoOperator<long>>(
            _ => (SeluOperator<float>.Create(), SeluOperator<double>.Create(), default, default), Float),
        FusionClass.Elementwise,
        // d/dx = lambda for x > 0, lambda alpha exp(x) = y + lambda alpha otherwise.
        static (_, i, o, g, _) =>
        [
            Nd.Where(i[0] > 0, g[0] * SeluOperator<double>.LambdaValue,
                g[0] * (o[0] + SeluOperator<double>.LambdaValue * SeluOperator<double>.AlphaValue)),
        ],
        inPlace: [(0, 0)]) { Saves = SavedValues.Of([0], [0]) };

    public static readonly OpDef<NoAttrs> Gelu = new("gelu",
        (_, t) =>
        {
            ShapeRules.RequireFloat("gelu", t[0]);
            return [t[0]];
        },
        new UnaryMath<NoAttrs, GeluSingleOperator, GeluDoubleOperator, NoOperator<int>, NoOperator<long>>(
            _ => default, Float),
        FusionClass.Elementwise,
        static (_, i, _, g, _) => [GeluBackward!.Call(NoAttrs.Instance, i[0], g[0])],
        inPlace: [(0, 0)]) { Saves = SavedValues.Inputs(0) };

    /// <summary>Inputs x and dy: dy (Phi(x) + x phi(x)).</summary>
    public static readonly OpDef<NoAttrs> GeluBackward = new("_backward_gelu",
        (_, t) =>
        {
            ShapeRules.RequireFloat("gelu", t[0]);
            return ShapeRules.BroadcastBinary("_backward_gelu", t[0], t[1]);
        },
        new BinaryMath<GeluBackwardSingleOperator, GeluBackwardDoubleOperator, NoOperator<int>, NoOperator<long>>(),
        FusionClass.Broadcast, inPlace: [(1, 0)]);

    /// <summary>Inputs x and the slope (one value per channel on axis 1, or a single value): MXNet's
    /// LeakyReLU act_type='prelu' with its gamma input.</summary>
    public static readonly OpDef<NoAttrs> PRelu = new("prelu", 2, 1,
        (_, t) =>
        {
            ShapeRules.RequireFloat("prelu", t[0]);
            ShapeRules.RequireSameDType("prelu", t[0], t[1]);
            var x = t[0].Shape;
            long n = t[1].Shape.Size;
            bool perChannel = x.Rank >= 2 && n == x[1];
            if (t[1].Shape.Rank != 1 || (n != 1 && !perChannel))
                throw new ArgumentException(
                    $"prelu: alpha has shape {t[1].Shape} but input {x} needs shape (1,) or one value per channel " +
                    $"({(x.Rank >= 2 ? x[1] + ",)" : "axis 1 is missing)")}; create PReLU with inChannels " +
                    "equal to the channel count, or 1.");
            return [t[0]];
        },
        FusionClass.Opaque,
        static (_, i, _, g, r) =>
        {
            var x = i[0];
            var slope = SlopeView(i[1], x.Rank);
            var dx = r[0] ? Nd.Where(x > 0, g[0], g[0] * slope) : null;
            if (!r[1]) return [dx, null];
            // d/dslope = min(x, 0), summed over every axis the slope is broadcast along.
            var axes = Enumerable.Range(0, x.Rank).Where(k => i[1].Size == 1 || k != 1).ToArray();
            return [dx, Nd.Sum(g[0] * Nd.Minimum(x, 0), axes).Reshape(i[1].Shape.ToArray())];
        }, inPlace: [(0, 0)]);

    /// <summary>The slope reshaped to broadcast against x: (1, C, 1, ...) or all ones.</summary>
    private static NDArray SlopeView(NDArray slope, int rank)
    {
        var dims = Enumerable.Repeat(1, rank).ToArray();
        if (slope.Size != 1) dims[1] = (int)slope.Size;
        return slope.Reshape(dims);
    }

    /// <summary>PReLU's kernel on a backend's elementwise driver: the slope read through a broadcast layout.</summary>
    internal static void RunPRelu(IElementwiseDriver driver, KernelContext c, TensorArg[] i, TensorArg[] o)
    {
        var x = i[0];
        var s = i[1];
        var strides = new long[x.Shape.Rank];
        if (s.Size != 1) strides[1] = s.Layout.Strides[0];
        var slope = s.WithLayout(new TensorLayout(x.Shape, strides, s.Offset));
        if (x.DType == DType.Float32) driver.Binary<PReluOperator<float>, float>(c, default, x, slope, o[0]);
        else driver.Binary<PReluOperator<double>, double>(c, default, x, slope, o[0]);
    }
}
