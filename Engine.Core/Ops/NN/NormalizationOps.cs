using Engine.Kernels;

namespace Engine.Ops;

/// <summary>
/// MXNet BatchNorm attributes. <see cref="Training"/> is resolved when the op runs (Autograd.IsTraining and not
/// UseGlobalStats), so the tape remembers which statistics the forward pass used.
/// </summary>
public sealed record BatchNormAttrs(double Epsilon = 1e-5, double Momentum = 0.9, bool FixGamma = false,
    bool UseGlobalStats = false, int Axis = 1, bool Training = false) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["eps"] = Format.Number(Epsilon), ["momentum"] = Format.Number(Momentum), ["fix_gamma"] = Format.Bool(FixGamma),
        ["use_global_stats"] = Format.Bool(UseGlobalStats), ["axis"] = Axis.ToString(),
    };

    internal BatchNormDescriptor Describe(Shape x)
    {
        var d = BatchNormDescriptor.ForAxis(x, Axis);
        return new BatchNormDescriptor(d.Outer, d.Channels, d.Inner)
        {
            Epsilon = Epsilon, Momentum = Momentum, FixGamma = FixGamma,
        };
    }
}

public sealed record SoftmaxAttrs(int Axis = -1, double Temperature = 1) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["axis"] = Axis.ToString(), ["temperature"] = Format.Number(Temperature),
    };

    internal (long Outer, int Axis, long Inner) Split(Shape x, string op)
    {
        int a = x.NormalizeAxis(Axis, op);
        return (x.SizeOf(0, a), x[a], x.SizeOf(a + 1, x.Rank));
    }
}

[OpTable]
public static class NormalizationOps
{
    /// <summary>Inputs x, gamma, beta, running_mean, running_var; outputs y, saved mean, saved 1/std.</summary>
    public static readonly OpDef<BatchNormAttrs> BatchNorm = new("batch_norm", 5, 3,
        (a, t) =>
        {
            ShapeRules.RequireFloat("batch_norm", t[0]);
            var d = a.Describe(t[0].Shape);
            for (int k = 1; k < 5; k++)
            {
                ShapeRules.RequireSameDType("batch_norm", t[0], t[k]);
                if (t[k].Shape.Size != d.Channels || t[k].Shape.Rank != 1)
                    throw new ArgumentException(
                        $"batch_norm: {ParamNames![k]} has shape {t[k].Shape} but input {t[0].Shape} has " +
                        $"{d.Channels} channels on axis {a.Axis}; it needs shape ({d.Channels},).");
            }
            var stat = new TensorType(new Shape(d.Channels), t[0].DType);
            return [t[0], stat, stat];
        },
        FusionClass.Opaque,
        static (a, i, o, g, r) =>
        {
            if (a.Training)
            {
                var grads = BatchNormBackward!.Invoke(a, i[0], g[0], i[1], o[1], o[2]);
                return [grads[0], r[1] ? grads[1] : null, r[2] ? grads[2] : null, null, null];
            }
            // Inference: y = (x - mean) * invstd * gamma + beta with fixed statistics.
            var shape = BroadcastShape(i[0].Shape, a.Axis);
            var invStd = o[2].Reshape(shape);
            var mean = o[1].Reshape(shape);
            var gamma = a.FixGamma ? Nd.OnesLike(i[1]).Reshape(shape) : i[1].Reshape(shape);
            var axes = Enumerable.Range(0, i[0].Rank).Where(k => k != i[0].Shape.NormalizeAxis(a.Axis, "batch_norm"))
                .ToArray();
            var dgamma = a.FixGamma ? Nd.ZerosLike(i[1]) : Nd.Sum(g[0] * (i[0] - mean) * invStd, axes);
            return [g[0] * gamma * invStd, dgamma, Nd.Sum(g[0], axes), null, null];
        })
    {
        // Training updates the running statistics in place; the gradient reads x, gamma and the saved statistics.
        Mutates = [3, 4],
        Saves = SavedValues.Of([0, 1], [1, 2]),
    };

    /// <summary>Inputs x, dy, gamma, saved mean, saved 1/std; outputs dx, dgamma, dbeta.</summary>
    public static readonly OpDef<BatchNormAttrs> BatchNormBackward = new("_backward_batch_norm", 5, 3,
        (_, t) => [t[0], t[2], t[2]]);

    public static readonly OpDef<SoftmaxAttrs> Softmax = new("softmax", 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat("softmax", t[0]);
            a.Split(t[0].Shape, "softmax");
            return [t[0]];
        },
        FusionClass.Opaque,
        static (a, _, o, g, _) => [SoftmaxBackward!.Call(a, o[0], g[0])]) { Saves = SavedValues.Outputs(0) };

    public static readonly OpDef<SoftmaxAttrs> LogSoftmax = new("log_softmax", 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat("log_softmax", t[0]);
            a.Split(t[0].Shape, "log_softmax");
            return [t[0]];
        },
        FusionClass.Opaque,
        static (a, _, o, g, _) => [LogSoftmaxBackward!.Call(a, o[0], g[0])]) { Saves = SavedValues.Outputs(0) };

    /// <summary>Inputs y (softmax output) and dy; dx = y * (dy - sum(dy * y)) / T.</summary>
    public static readonly OpDef<SoftmaxAttrs> SoftmaxBackward = new("_backward_softmax", 2, 1,
        (_, t) => [t[0]],
        FusionClass.Opaque,
        // Second order: dx = y*dy - y*s with s = sum(dy*y); written with primitives so createGraph works.
        static (a, i, _, g, r) =>
        {
            var (_, axis, _) = (0, i[0].Shape.NormalizeAxis(a.Axis, "softmax"), 0);
            var y = i[0];
            var dy = i[1];
            var s = Nd.Sum(dy * y, axis, keepDims: true);
            var gs = Nd.Sum(g[0] * y, axis, keepDims: true);
            // d/dy: g*dy - g*s - dy*sum(g*y) ; d/ddy: g*y - y*sum(g*y)
            return [r[0] ? (g[0] * dy - g[0] * s - dy * gs) / a.Temperature : null,
                r[1] ? (g[0] * y - y * gs) / a.Temperature : null];
        });

    /// <summary>Inputs y (log-softmax output) and dy; dx = (dy - exp(y) * sum(dy)) / T.</summary>
    public static readonly OpDef<SoftmaxAttrs> LogSoftmaxBackward = new("_backward_log_softmax", 2, 1,
        (_, t) => [t[0]],
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        {
            int axis = i[0].Shape.NormalizeAxis(a.Axis, "log_softmax");
            var p = Nd.Exp(i[0]);
            var sdy = Nd.Sum(i[1], axis, keepDims: true);
            var sg = Nd.Sum(g[0] * p, axis, keepDims: true);
            return [r[0] ? -(g[0] * p * sdy) / a.Temperature : null, r[1] ? (g[0] - sg) / a.Temperature : null];
        });

    /// <summary>Inputs logits (batch, classes) and integer labels (batch); output the per-sample loss.</summary>
    public static readonly OpDef<NoAttrs> SoftmaxCrossEntropy = new("softmax_cross_entropy", 2, 1,
        (_, t) =>
        {
            ShapeRules.RequireFloat("softmax_cross_entropy", t[0]);
            if (t[0].Shape.Rank != 2)
                throw new ArgumentException(
                    $"softmax_cross_entropy: logits must be (batch, classes), got {t[0].Shape}; reshape first.");
            if (t[1].Shape.Size != t[0].Shape[0])
                throw new ArgumentException(
                    $"softmax_cross_entropy: {t[1].Shape.Size} labels (shape {t[1].Shape}) for a batch of " +
                    $"{t[0].Shape[0]} (logits {t[0].Shape}); give one label per row.");
            return [new TensorType(new Shape(t[0].Shape[0]), t[0].DType)];
        },
        FusionClass.Opaque,
        static (_, i, _, g, r) => [r[0] ? SoftmaxCrossEntropyBackward!.Call(NoAttrs.Instance, i[0], i[1], g[0]) : null,
            null]) { Saves = SavedValues.Inputs(0, 1) };

    /// <summary>Inputs logits, labels, dloss; output dlogits = (softmax - onehot) * dloss.</summary>
    public static readonly OpDef<NoAttrs> SoftmaxCrossEntropyBackward = new("_backward_softmax_cross_entropy", 3, 1,
        (_, t) => [t[0]]);

    private static readonly string[] ParamNames = ["data", "gamma", "beta", "running_mean", "running_var"];

    internal static int[] BroadcastShape(Shape x, int axis)
    {
        int a = x.NormalizeAxis(axis, "batch_norm");
        var dims = Enumerable.Repeat(1, x.Rank).ToArray();
        dims[a] = x[a];
        return dims;
    }
}
