using Engine.Kernels;

namespace Engine.Ops;

/// <summary>The attributes shared by layer, instance and group norm: how a shape maps onto the kernel's view.</summary>
public abstract record SampleNormAttrs : OpAttrs
{
    /// <summary>The operator's name, for errors.</summary>
    internal abstract string Op { get; }

    /// <summary>The kernel's view of input <paramref name="x"/> (checks the shape).</summary>
    internal abstract SampleNormDescriptor Describe(Shape x);

    /// <summary>The shape of the saved mean and std.</summary>
    internal abstract Shape StatisticsShape(Shape x);

    /// <summary>The shape gamma and beta must have.</summary>
    internal abstract Shape AffineShape(Shape x);
}

/// <summary>MXNet's LayerNorm: statistics over <see cref="Axis"/> of each sample; gamma and beta over that
/// axis.</summary>
public sealed record LayerNormAttrs(int Axis = -1, double Epsilon = 1e-5) : SampleNormAttrs
{
    internal override string Op => "layer_norm";

    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axis.ToString(), ["eps"] = Format.Number(Epsilon),
    };

    internal override SampleNormDescriptor Describe(Shape x)
    {
        int a = x.NormalizeAxis(Axis, Op);
        return new SampleNormDescriptor(x.SizeOf(0, a), x[a], x.SizeOf(a + 1, x.Rank), NormAffine.PerPosition)
        {
            Epsilon = Epsilon,
        };
    }

    internal override Shape StatisticsShape(Shape x) => x.With(Axis, 1);

    internal override Shape AffineShape(Shape x) => new(x[x.NormalizeAxis(Axis, Op)]);
}

/// <summary>MXNet's InstanceNorm on (N, C, spatial...): statistics per sample and channel over the spatial axes,
/// gamma and beta per channel. MXNet's operator default epsilon is 1e-3 (Gluon's layer passes 1e-5).</summary>
public sealed record InstanceNormAttrs(double Epsilon = 1e-3) : SampleNormAttrs
{
    internal override string Op => "instance_norm";

    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["eps"] = Format.Number(Epsilon) };

    internal override SampleNormDescriptor Describe(Shape x)
    {
        RequireChannels(Op, x);
        return new SampleNormDescriptor((long)x[0] * x[1], x.SizeOf(2, x.Rank), 1, NormAffine.PerOuter, x[1])
        {
            Epsilon = Epsilon,
        };
    }

    internal override Shape StatisticsShape(Shape x) => new(x[0], x[1]);

    internal override Shape AffineShape(Shape x) => new(x[1]);

    internal static void RequireChannels(string op, Shape x)
    {
        if (x.Rank < 3)
            throw new ArgumentException(
                $"{op}: input {x} needs at least 3 axes, (batch, channels, spatial...); add a spatial axis of " +
                "size 1 with Reshape.");
    }
}

/// <summary>
/// MXNet 1.x's GroupNorm on (N, C, spatial...): the C channels are split into <see cref="NumGroups"/> groups and
/// each sample's group is normalised over its channels and spatial positions. As in MXNet 1.x (not 2.x), gamma
/// and beta hold one value per group, shape (num_groups,).
/// </summary>
public sealed record GroupNormAttrs(int NumGroups = 1, double Epsilon = 1e-5) : SampleNormAttrs
{
    internal override string Op => "group_norm";

    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["num_groups"] = NumGroups.ToString(), ["eps"] = Format.Number(Epsilon),
    };

    internal override SampleNormDescriptor Describe(Shape x)
    {
        if (x.Rank < 2)
            throw new ArgumentException(
                $"{Op}: input {x} needs at least 2 axes, (batch, channels, spatial...).");
        if (NumGroups <= 0 || x[1] % NumGroups != 0)
            throw new ArgumentException(
                $"{Op}: {x[1]} channels (input {x}) cannot be split into {NumGroups} groups; num_groups must be " +
                "a positive divisor of the channel count.");
        return new SampleNormDescriptor((long)x[0] * NumGroups, x.SizeOf(1, x.Rank) / NumGroups, 1,
            NormAffine.PerOuter, NumGroups) { Epsilon = Epsilon };
    }

    internal override Shape StatisticsShape(Shape x) => new(x[0], NumGroups);

    internal override Shape AffineShape(Shape x) => new(NumGroups);
}

/// <summary>Layer, instance and group normalisation: inputs x, gamma, beta; outputs y, saved mean, saved std.</summary>
[OpTable]
public static class SampleNormOps
{
    public static readonly OpDef<LayerNormAttrs> LayerNorm = Forward<LayerNormAttrs>("layer_norm",
        static () => LayerNormBackward!);

    public static readonly OpDef<LayerNormAttrs> LayerNormBackward = Backward<LayerNormAttrs>("layer_norm");

    public static readonly OpDef<InstanceNormAttrs> InstanceNorm = Forward<InstanceNormAttrs>("instance_norm",
        static () => InstanceNormBackward!);

    public static readonly OpDef<InstanceNormAttrs> InstanceNormBackward =
        Backward<InstanceNormAttrs>("instance_norm");

    public static readonly OpDef<GroupNormAttrs> GroupNorm = Forward<GroupNormAttrs>("group_norm",
        static () => GroupNormBackward!);

    public static readonly OpDef<GroupNormAttrs> GroupNormBackward = Backward<GroupNormAttrs>("group_norm");

    private static readonly string[] Names = ["data", "gamma", "beta"];

    private static OpDef<T> Forward<T>(string name, Func<OpDef<T>> backward) where T : SampleNormAttrs =>
        new(name, 3, 3,
            (a, t) =>
            {
                ShapeRules.RequireFloat(name, t[0]);
                var x = t[0].Shape;
                a.Describe(x);
                var affine = a.AffineShape(x);
                for (int k = 1; k < 3; k++)
                {
                    ShapeRules.RequireSameDType(name, t[0], t[k]);
                    if (t[k].Shape != affine)
                        throw new ArgumentException(
                            $"{name}: {Names[k]} has shape {t[k].Shape} but input {x} needs shape {affine}.");
                }
                var stat = new TensorType(a.StatisticsShape(x), t[0].DType);
                return [t[0], stat, stat];
            },
            FusionClass.Opaque,
            (a, i, o, g, r) =>
            {
                var grads = backward().Invoke(a, i[0], g[0], i[1], o[1], o[2]);
                return [r[0] ? grads[0] : null, r[1] ? grads[1] : null, r[2] ? grads[2] : null];
            }, inPlace: [(0, 0)])
        {
            // The gradient reads x, gamma and the saved statistics.
            Saves = SavedValues.Of([0, 1], [1, 2]),
        };

    /// <summary>Inputs x, dy, gamma, saved mean, saved std; outputs dx, dgamma, dbeta.</summary>
    private static OpDef<T> Backward<T>(string name) where T : SampleNormAttrs =>
        new("_backward_" + name, 5, 3, (_, t) => [t[0], t[2], t[2]]);
}
