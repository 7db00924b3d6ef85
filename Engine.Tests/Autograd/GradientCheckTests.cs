using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Autograd;

/// <summary>
/// Every differentiable operator in the registry is checked against finite differences. An operator with a
/// gradient rule but no case here fails <see cref="EveryDifferentiableOpHasACase"/>.
/// </summary>
public partial class GradientCheckTests
{
    private static NDArray Rand(Random rng, double low, double high, params int[] shape) =>
        Nd.Array(TestData.UniformDouble(rng, new Shape(shape).Size, low, high), new Shape(shape));

    /// <summary>Values away from kinks (0 for relu/abs) so central differences are exact enough.</summary>
    private static NDArray AwayFromZero(Random rng, params int[] shape)
    {
        var v = TestData.UniformDouble(rng, new Shape(shape).Size, 0.2, 2);
        for (int i = 0; i < v.Length; i++) if (rng.Next(2) == 0) v[i] = -v[i];
        return Nd.Array(v, new Shape(shape));
    }

    private static GradientCase Unary(string op, double low = -2, double high = 2) =>
        new(op, NoAttrs.Instance, r => [low < 0 ? AwayFromZero(r, 3, 5) : Rand(r, low, high, 3, 5)]);

    private static GradientCase Binary(string op, int[] a, int[] b, double low = -2, double high = 2) =>
        new(op, NoAttrs.Instance, r => [Rand(r, low, high, a), Rand(r, low, high, b)],
            $"{new Shape(a)}x{new Shape(b)}");

    public static IEnumerable<GradientCase> Cases()
    {
        foreach (var op in new[] { "negative", "abs", "square", "relu", "sigmoid", "tanh", "softrelu", "softsign",
                     "exp" })
            yield return Unary(op);
        foreach (var op in new[] { "log", "sqrt", "rsqrt", "reciprocal" }) yield return Unary(op, 0.5, 2);
        foreach (var op in new[] { "add", "subtract", "multiply", "divide", "maximum", "minimum" })
        {
            yield return Binary(op, [3, 4], [3, 4], 0.5, 2);
            yield return Binary(op, [2, 3, 4], [3, 1], 0.5, 2);
        }
        yield return Binary("power", [3, 4], [3, 4], 0.5, 2);
        yield return Binary("power", [3, 4], [4], 0.5, 2);
        yield return new GradientCase("_backward_relu", NoAttrs.Instance,
            r => [AwayFromZero(r, 3, 4), Rand(r, -1, 1, 3, 4)], NonDifferentiableInputs: [0]);
        yield return new GradientCase("clip", new ClipAttrs(-1, 1), r => [AwayFromZero(r, 4, 5)]);
        yield return new GradientCase("leaky_relu", new LeakyReluAttrs(0.1), r => [AwayFromZero(r, 4, 5)]);
        yield return new GradientCase("where", NoAttrs.Instance,
            r => [Nd.Array([1.0, 0, 1, 0, 1, 1], new Shape(2, 3)), Rand(r, -1, 1, 2, 3), Rand(r, -1, 1, 3)],
            NonDifferentiableInputs: [0]);
        yield return new GradientCase("copy", NoAttrs.Instance, r => [Rand(r, -1, 1, 3, 4)]);
        yield return new GradientCase("reshape", new ReshapeAttrs([0, -1]), r => [Rand(r, -1, 1, 2, 3, 4)]);
        yield return new GradientCase("transpose", new TransposeAttrs([2, 0, 1]), r => [Rand(r, -1, 1, 2, 3, 4)]);
        yield return new GradientCase("slice_axis", new SliceAxisAttrs(1, 1, 5, 2), r => [Rand(r, -1, 1, 3, 6)]);
        foreach (var c in Extra()) yield return c;
        foreach (var c in NormalizationCases()) yield return c;
        foreach (var c in LinearCases()) yield return c;
        foreach (var c in ConvolutionNdCases()) yield return c;
        foreach (var c in LayerGradientCases.Cases()) yield return c;
        foreach (var c in RecurrentGradientCases.Cases()) yield return c;
    }

    /// <summary>Cases for operator families registered later (reductions, nn, layout).</summary>
    private static IEnumerable<GradientCase> Extra()
    {
        foreach (var op in new[] { "sum", "mean", "max", "min", "prod", "norm" })
        {
            yield return new GradientCase(op, new ReduceAttrs([1]), r => [Rand(r, 0.5, 2, 3, 4, 2)], "axis 1");
            yield return new GradientCase(op, new ReduceAttrs([0, 2], true), r => [Rand(r, 0.5, 2, 3, 4, 2)],
                "axes 0,2 keepdims");
            yield return new GradientCase(op, new ReduceAttrs([]), r => [Rand(r, 0.5, 2, 2, 3)], "all");
        }
        yield return new GradientCase("broadcast_to", new BroadcastToAttrs([2, 3, 4]), r => [Rand(r, -1, 1, 3, 1)]);
        yield return new GradientCase("cast", new CastAttrs(DType.Float64), r => [Rand(r, -1, 1, 3, 2)]);
        yield return new GradientCase("concat", new ConcatAttrs(1),
            r => [Rand(r, -1, 1, 2, 3), Rand(r, -1, 1, 2, 1), Rand(r, -1, 1, 2, 4)]);
        yield return new GradientCase("_backward_slice_axis",
            new SliceAxisBackwardAttrs(new SliceAxisAttrs(1, 1, 5, 2), [3, 6]), r => [Rand(r, -1, 1, 3, 2)]);
        yield return new GradientCase("take", new TakeAttrs(0, Engine.Kernels.TakeMode.Clip),
            r => [Rand(r, -1, 1, 5, 3), Nd.Array([4.0, 0, 4, 2], new Shape(2, 2))], NonDifferentiableInputs: [1]);
        yield return new GradientCase("take", new TakeAttrs(1, Engine.Kernels.TakeMode.Wrap),
            r => [Rand(r, -1, 1, 2, 3), Nd.Array([-1.0, 5, 0], new Shape(3))], "axis 1 wrap",
            NonDifferentiableInputs: [1]);
        foreach (var mode in new[] { Engine.Kernels.PadMode.Constant, Engine.Kernels.PadMode.Edge,
                     Engine.Kernels.PadMode.Reflect })
            yield return new GradientCase("pad", new PadAttrs(mode, [0, 1, 2], [0, 2, 1], 0.5),
                r => [Rand(r, -1, 1, 2, 3, 4)], mode.ToString());
        yield return new GradientCase("pooling", new PoolingAttrs(Engine.Kernels.PoolingMode.Max, [2, 2], [2, 2],
            [0, 0]), r => [Distinct(r, 2, 3, 5, 4)], "max 2x2");
        yield return new GradientCase("pooling", new PoolingAttrs(Engine.Kernels.PoolingMode.Max, [3, 3], [2, 2],
            [1, 1]), r => [Distinct(r, 1, 2, 5, 5)], "max 3x3 s2 p1");
        yield return new GradientCase("pooling", new PoolingAttrs(Engine.Kernels.PoolingMode.Avg, [3, 3], [2, 2],
            [1, 1], Convention: Engine.Kernels.PoolingConvention.Full, CountIncludePad: false),
            r => [Rand(r, -1, 1, 1, 2, 6, 5)], "avg full");
        yield return new GradientCase("pooling", new PoolingAttrs(Engine.Kernels.PoolingMode.Avg, [1, 1], [1, 1],
            [0, 0], GlobalPool: true), r => [Rand(r, -1, 1, 2, 3, 4, 4)], "global avg");
    }

    private static IEnumerable<GradientCase> NormalizationCases()
    {
        NDArray[] BnInputs(Random r) =>
        [
            Rand(r, -1, 1, 4, 3, 2, 2), Rand(r, 0.5, 1.5, 3), Rand(r, -0.5, 0.5, 3), Rand(r, -0.1, 0.1, 3),
            Rand(r, 0.5, 1.5, 3),
        ];
        yield return new GradientCase("batch_norm", new BatchNormAttrs(Training: true), BnInputs, "training",
            NonDifferentiableInputs: [3, 4], DifferentiableOutputs: 1);
        yield return new GradientCase("batch_norm", new BatchNormAttrs(Training: false), BnInputs, "inference",
            NonDifferentiableInputs: [3, 4], DifferentiableOutputs: 1);
        yield return new GradientCase("batch_norm", new BatchNormAttrs(Axis: -1, Training: true),
            r => [Rand(r, -1, 1, 5, 3), Rand(r, 0.5, 1.5, 3), Rand(r, -0.5, 0.5, 3), Rand(r, -0.1, 0.1, 3),
                Rand(r, 0.5, 1.5, 3)], "axis -1", NonDifferentiableInputs: [3, 4], DifferentiableOutputs: 1);
        foreach (var op in new[] { "softmax", "log_softmax" })
        {
            yield return new GradientCase(op, new SoftmaxAttrs(-1), r => [Rand(r, -2, 2, 3, 5)], "last axis");
            yield return new GradientCase(op, new SoftmaxAttrs(1, 2), r => [Rand(r, -2, 2, 2, 4, 3)], "axis 1 T=2");
        }
        yield return new GradientCase("_backward_softmax", new SoftmaxAttrs(-1),
            r => [Nd.Softmax(Rand(r, -2, 2, 3, 4)), Rand(r, -1, 1, 3, 4)]);
        yield return new GradientCase("_backward_log_softmax", new SoftmaxAttrs(1),
            r => [Nd.LogSoftmax(Rand(r, -2, 2, 3, 4), 1), Rand(r, -1, 1, 3, 4)]);
        yield return new GradientCase("softmax_cross_entropy", NoAttrs.Instance,
            r => [Rand(r, -2, 2, 4, 5), Nd.Array([0.0, 4, 2, 2], new Shape(4))], NonDifferentiableInputs: [1]);
        // The second label repeats a symbol, so its 4 frames are exactly enough.
        yield return new GradientCase("ctc_loss", new CtcAttrs(true, true, CtcBlank.Last),
            r => [Rand(r, -2, 2, 5, 2, 4), Nd.Array([0.0, 1, -1, 2, 2, 1], new Shape(2, 3)),
                Nd.Array([5.0, 4], new Shape(2)), Nd.Array([2.0, 3], new Shape(2))], "blank last, lengths",
            NonDifferentiableInputs: [1, 2, 3]);
        yield return new GradientCase("ctc_loss", new CtcAttrs(Blank: CtcBlank.First),
            r => [Rand(r, -2, 2, 6, 2, 4), Nd.Array([1.0, 2, 0, 3, 3, 1], new Shape(2, 3))], "blank first, padded",
            NonDifferentiableInputs: [1]);
    }

    private static IEnumerable<GradientCase> LinearCases()
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            int[] a = ta ? [4, 3] : [3, 4], b = tb ? [5, 4] : [4, 5];
            yield return new GradientCase("dot", new DotAttrs(ta, tb), r => [Rand(r, -1, 1, a), Rand(r, -1, 1, b)],
                $"tA={ta} tB={tb}");
            yield return new GradientCase("batch_dot", new DotAttrs(ta, tb),
                r => [Rand(r, -1, 1, [2, .. a]), Rand(r, -1, 1, [2, .. b])], $"tA={ta} tB={tb}");
        }
        yield return new GradientCase("fully_connected", new FullyConnectedAttrs(4),
            r => [Rand(r, -1, 1, 3, 2, 3), Rand(r, -1, 1, 4, 6), Rand(r, -1, 1, 4)], "flatten");
        yield return new GradientCase("fully_connected", new FullyConnectedAttrs(4, NoBias: true, Flatten: false),
            r => [Rand(r, -1, 1, 2, 3, 5), Rand(r, -1, 1, 4, 5)], "no bias, no flatten");
        yield return new GradientCase("convolution", new ConvolutionAttrs([1, 1], [1, 1], [1, 1]),
            r => [Rand(r, -1, 1, 2, 3, 5, 4), Rand(r, -1, 1, 4, 3, 3, 3), Rand(r, -1, 1, 4)], "3x3 pad 1");
        yield return new GradientCase("convolution", new ConvolutionAttrs([2, 1], [0, 1], [1, 2], 2, true),
            r => [Rand(r, -1, 1, 1, 4, 7, 6), Rand(r, -1, 1, 2, 2, 2, 3)], "stride, dilation, groups");
        yield return new GradientCase("_backward_convolution_bias", NoAttrs.Instance,
            r => [Rand(r, -1, 1, 2, 3, 4, 5)]);
        yield return new GradientCase("convolution", new ConvolutionAttrs([1], [1], [1]),
            r => [Rand(r, -1, 1, 2, 2, 7), Rand(r, -1, 1, 3, 2, 3), Rand(r, -1, 1, 3)], "conv1d");
    }

    /// <summary>Distinct values, well separated, so a max window never sees a tie within epsilon.</summary>
    private static NDArray Distinct(Random rng, params int[] shape)
    {
        var s = new Shape(shape);
        var v = Enumerable.Range(0, (int)s.Size).Select(i => i * 0.01).OrderBy(_ => rng.Next()).ToArray();
        return Nd.Array(v, s);
    }

    /// <summary>Operators whose gradient is checked by a dedicated test rather than finite differences.</summary>
    private static readonly string[] CheckedElsewhere =
    [
        "dropout",
        // Its inputs are the forward's saved statistics, so perturbing them alone is not a valid function of the
        // data; the training batch_norm case above differentiates through it.
        "_backward_batch_norm",
        "_backward_softmax_cross_entropy",
    ];

    [Test]
    public void DropoutGradientIsTheMask()
    {
        RandomState.Seed(3);
        using var x = Nd.Array(TestData.UniformDouble(new Random(1), 1000, 0.5, 1.5), new Shape(10, 100));
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = Nd.Dropout(x, 0.3);
        y.Backward();
        var yv = y.ToArray<double>();
        var xv = x.ToArray<double>();
        var g = x.Grad!.ToArray<double>();
        int dropped = 0;
        for (int i = 0; i < xv.Length; i++)
        {
            double mask = yv[i] / xv[i];
            g[i].ShouldBe(mask, 1e-12);
            if (yv[i] == 0) dropped++;
            else mask.ShouldBe(1 / 0.7, 1e-12);
        }
        dropped.ShouldBeInRange(230, 370);
        y.Dispose();
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesFiniteDifferences(GradientCase c) => GradientCheck.Run(c);

    [Test]
    public void EveryDifferentiableOpHasACase()
    {
        var covered = Cases().Select(c => c.Op).Concat(CheckedElsewhere).ToHashSet();
        var missing = OpRegistry.All.Values.Where(op => op.HasGradient && !covered.Contains(op.Name))
            .Select(op => op.Name).Order().ToList();
        missing.ShouldBeEmpty("operators with a gradient rule but no finite-difference case");
    }
}
