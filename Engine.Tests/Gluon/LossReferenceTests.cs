using Engine.Gluon.Losses;
using Engine.Tests.Autograd;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The losses against naive double-precision formulas written here (for those PyTorch has no equivalent of),
/// finite-difference gradients of every loss, hybridized against imperative, sample weights and the errors.
/// </summary>
[NonParallelizable]
public class LossReferenceTests
{
    private static NDArray Rand(Random rng, double low, double high, params int[] shape) =>
        Nd.Array(TestData.UniformDouble(rng, new Shape(shape).Size, low, high), new Shape(shape));

    private static NDArray Signs(Random rng, params int[] shape) =>
        Nd.Array(Enumerable.Range(0, (int)new Shape(shape).Size).Select(_ => rng.Next(2) == 0 ? -1.0 : 1.0)
            .ToArray(), new Shape(shape));

    [Test]
    public void HingeAndSquaredHingeMatchTheirFormulas()
    {
        var rng = new Random(1);
        using var pred = Rand(rng, -2, 2, 3, 4);
        using var label = Signs(rng, 3, 4);
        var p = pred.ToArray<double>();
        var z = label.ToArray<double>();
        double[] Expected(double margin, bool squared) => Enumerable.Range(0, 3).Select(r =>
            Enumerable.Range(0, 4).Average(c =>
            {
                double h = Math.Max(0, margin - p[r * 4 + c] * z[r * 4 + c]);
                return squared ? h * h : h;
            })).ToArray();
        using (var l = new HingeLoss(margin: 0.5).Call(pred, label))
            TensorAssert.AllClose(l.ToArray<double>(), Expected(0.5, false), Tolerances.Float64, "hinge");
        using (var l = new SquaredHingeLoss().Call(pred, label))
            TensorAssert.AllClose(l.ToArray<double>(), Expected(1, true), Tolerances.Float64, "squared hinge");
    }

    [Test]
    public void LogisticLossReadsSignedAndBinaryLabels()
    {
        var rng = new Random(2);
        using var pred = Rand(rng, -30, 30, 4, 3);
        using var signed = Signs(rng, 4, 3);
        using var binary = (signed + 1) * 0.5;
        var p = pred.ToArray<double>();
        var z = signed.ToArray<double>();
        // log(1 + exp(-x y)) without overflow.
        var expected = Enumerable.Range(0, 4).Select(r => Enumerable.Range(0, 3).Average(c =>
        {
            double m = -p[r * 3 + c] * z[r * 3 + c];
            return Math.Max(m, 0) + Math.Log(1 + Math.Exp(-Math.Abs(m)));
        })).ToArray();
        using (var l = new LogisticLoss().Call(pred, signed))
            TensorAssert.AllClose(l.ToArray<double>(), expected, new Tolerance(1e-12, 1e-12), "signed");
        using (var l = new LogisticLoss(labelFormat: LogisticLabelFormat.Binary).Call(pred, binary))
            TensorAssert.AllClose(l.ToArray<double>(), expected, new Tolerance(1e-12, 1e-12), "binary");
    }

    [Test]
    public void TripletLossUsesSquaredDistancesOverNonBatchAxes()
    {
        var rng = new Random(3);
        using var pred = Rand(rng, -1, 1, 3, 2, 2);
        using var pos = Rand(rng, -1, 1, 3, 2, 2);
        using var neg = Rand(rng, -1, 1, 3, 4);
        using var sw = Nd.Array([1.0, 2, 0.5], new Shape(3));
        var (a, b, c, w) = (pred.ToArray<double>(), pos.ToArray<double>(), neg.ToArray<double>(), sw.ToArray<double>());
        var expected = Enumerable.Range(0, 3).Select(r =>
        {
            double d = Enumerable.Range(0, 4)
                .Sum(k => Sq(b[r * 4 + k] - a[r * 4 + k]) - Sq(c[r * 4 + k] - a[r * 4 + k]));
            return 2 * w[r] * Math.Max(d + 0.3, 0);
        }).ToArray();
        using var loss = new TripletLoss(margin: 0.3, weight: 2).Call(pred, pos, neg, sw);
        loss.Shape.ShouldBe(new Shape(3));
        TensorAssert.AllClose(loss.ToArray<double>(), expected, Tolerances.Float64, "triplet");
    }

    [Test]
    public void PoissonStirlingTermIsZeroForTargetsUpToOneAndFiniteAtZero()
    {
        using var pred = Nd.Array([0.5, 0.5, 0.5, 0.5], new Shape(2, 2));
        using var target = Nd.Array([0.0, 1, 2, 5], new Shape(2, 2));
        double Stirling(double t) => t > 1 ? t * Math.Log(t) - t + 0.5 * Math.Log(2 * Math.PI * t) : 0;
        var expected = new[] { 0.0, 1, 2, 5 }.Average(t => Math.Exp(0.5) - t * 0.5 + Stirling(t));
        using var loss = new PoissonNLLLoss(computeFull: true).Call(pred, target);
        loss.Shape.ShouldBe(new Shape(1));
        loss.ToArray<double>()[0].ShouldBe(expected, 1e-12);
    }

    /// <summary>A loss under test: a factory for its inputs (float64) and the call.</summary>
    public sealed record LossCase(string Name, Func<Random, NDArray[]> Inputs, Func<NDArray[], NDArray> Call,
        Func<Engine.Gluon.Losses.Loss> Make)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<LossCase> Cases()
    {
        yield return new("L2Loss", r => [Rand(r, -1, 1, 3, 4), Rand(r, -1, 1, 3, 4)],
            x => new L2Loss().CallMany(x)[0], () => new L2Loss());
        yield return new("L1Loss", r => [Rand(r, 0.1, 1, 3, 4), Rand(r, -1, -0.1, 3, 4)],
            x => new L1Loss().CallMany(x)[0], () => new L1Loss());
        yield return new("SoftmaxCrossEntropyLoss axis 0",
            r => [Rand(r, -2, 2, 4, 3), Nd.Array([0.0, 3, 1], new Shape(3))],
            x => new SoftmaxCrossEntropyLoss(axis: 0, batchAxis: 1).CallMany(x)[0],
            () => new SoftmaxCrossEntropyLoss(axis: 0, batchAxis: 1));
        yield return new("SigmoidBinaryCrossEntropyLoss pos_weight",
            r => [Rand(r, -4, 4, 3, 4), Rand(r, 0, 1, 3, 4), Rand(r, 0.5, 2, 3, 1), Rand(r, 0.5, 3, 1, 4)],
            x => new SigmoidBinaryCrossEntropyLoss().CallMany(x)[0], () => new SigmoidBinaryCrossEntropyLoss());
        yield return new("SigmoidBinaryCrossEntropyLoss from_sigmoid",
            r => [Rand(r, 0.05, 0.95, 3, 4), Rand(r, 0, 1, 3, 4)],
            x => new SigmoidBinaryCrossEntropyLoss(fromSigmoid: true).CallMany(x)[0],
            () => new SigmoidBinaryCrossEntropyLoss(fromSigmoid: true));
        yield return new("KLDivLoss scores", r => [Rand(r, -2, 2, 2, 3, 4), Nd.Softmax(Rand(r, -1, 1, 2, 3, 4))],
            x => new KLDivLoss(fromLogits: false, axis: 1).CallMany(x)[0], () => new KLDivLoss(false, 1));
        yield return new("HuberLoss", r => [Rand(r, -1, 1, 3, 4), Rand(r, -1, 1, 3, 4) * 3],
            x => new HuberLoss(rho: 0.7).CallMany(x)[0], () => new HuberLoss(0.7));
        yield return new("HingeLoss", r => [Rand(r, -3, 3, 4, 5), Signs(r, 4, 5)],
            x => new HingeLoss().CallMany(x)[0], () => new HingeLoss());
        yield return new("SquaredHingeLoss", r => [Rand(r, -3, 3, 4, 5), Signs(r, 4, 5)],
            x => new SquaredHingeLoss(margin: 2).CallMany(x)[0], () => new SquaredHingeLoss(2));
        yield return new("LogisticLoss binary", r => [Rand(r, -5, 5, 4, 3), (Signs(r, 4, 3) + 1) * 0.5],
            x => new LogisticLoss(labelFormat: LogisticLabelFormat.Binary).CallMany(x)[0],
            () => new LogisticLoss(labelFormat: LogisticLabelFormat.Binary));
        yield return new("TripletLoss",
            r => [Rand(r, -1, 1, 4, 3), Rand(r, -1, 1, 4, 3), Rand(r, -1, 1, 4, 3), Rand(r, 0.5, 2, 4)],
            x => new TripletLoss(margin: 1.5).CallMany(x)[0], () => new TripletLoss(1.5));
        yield return new("CosineEmbeddingLoss",
            r => [Rand(r, -1, 1, 4, 5), Rand(r, -1, 1, 4, 5), Nd.Array([1.0, -1, -1, 1], new Shape(4))],
            x => new CosineEmbeddingLoss(margin: -0.5).CallMany(x)[0], () => new CosineEmbeddingLoss(margin: -0.5));
        yield return new("PoissonNLLLoss full rates",
            r => [Rand(r, 0.5, 3, 3, 4), Nd.Array(Enumerable.Range(0, 12).Select(k => (double)(k % 5)).ToArray(),
                new Shape(3, 4))],
            x => new PoissonNLLLoss(fromLogits: false, computeFull: true).CallMany(x)[0],
            () => new PoissonNLLLoss(fromLogits: false, computeFull: true));
    }

    /// <summary>d sum(w * loss) / d prediction by autograd against central differences.</summary>
    [TestCaseSource(nameof(Cases))]
    public void GradientOfThePredictionMatchesFiniteDifferences(LossCase c)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(11);
        var inputs = c.Inputs(rng);
        var pred = inputs[0];
        pred.AttachGrad();
        NDArray loss;
        using (Engine.Autograd.Record()) loss = c.Call(inputs);
        var w = Rand(rng, 0.5, 1.5, loss.Shape.ToArray());
        Engine.Autograd.Backward([loss], [w]);
        var analytic = pred.Grad!.ToArray<double>();
        var values = pred.ToArray<double>();
        var numeric = new double[values.Length];
        double Objective()
        {
            using var inner = NDArray.Scope();
            var args = (NDArray[])inputs.Clone();
            args[0] = Nd.Array(values, pred.Shape);
            return (c.Call(args) * w).ToArray<double>().Sum();
        }
        for (int k = 0; k < values.Length; k++)
        {
            double saved = values[k];
            values[k] = saved + GradientCheck.Epsilon;
            double plus = Objective();
            values[k] = saved - GradientCheck.Epsilon;
            double minus = Objective();
            values[k] = saved;
            numeric[k] = (plus - minus) / (2 * GradientCheck.Epsilon);
        }
        TensorAssert.AllClose(analytic, numeric, GradientCheck.Tolerance, $"{c}: d/d prediction");
    }

    [TestCaseSource(nameof(Cases))]
    public void HybridizedGivesTheImperativeLossAndGradient(LossCase c)
    {
        using var scope = NDArray.Scope();
        var (imperative, gradImperative) = Run(c, hybridize: false);
        var (hybrid, gradHybrid) = Run(c, hybridize: true);
        TensorAssert.AllClose(hybrid, imperative, Tolerances.Float64, $"{c} loss");
        TensorAssert.AllClose(gradHybrid, gradImperative, Tolerances.Float64, $"{c} gradient");
    }

    private static (double[] Loss, double[] Grad) Run(LossCase c, bool hybridize)
    {
        var block = c.Make();
        if (hybridize) block.Hybridize();
        double[] loss = [];
        for (int call = 0; call < 2; call++)
        {
            var inputs = c.Inputs(new Random(5));
            inputs[0].AttachGrad();
            NDArray y;
            using (Engine.Autograd.Record()) y = block.CallMany(inputs)[0];
            y.Backward();
            loss = y.ToArray<double>();
            if (call == 1) return (loss, inputs[0].Grad!.ToArray<double>());
        }
        throw new InvalidOperationException("unreachable");
    }

    [Test]
    public void SampleWeightsScaleEachSample()
    {
        var rng = new Random(4);
        using var pred = Rand(rng, -2, 2, 3, 4);
        using var label = Nd.Array([0.0, 3, 1], new Shape(3));
        using var sw = Nd.Array([2.0, 0, 0.5], new Shape(3, 1));
        var plain = new SoftmaxCrossEntropyLoss().Call(pred, label).ToArray<double>();
        var weighted = new SoftmaxCrossEntropyLoss().Call(pred, label, sw).ToArray<double>();
        TensorAssert.AllClose(weighted, [2 * plain[0], 0, 0.5 * plain[2]], Tolerances.Float64, "(3, 1) weights");

        using var target = Rand(rng, -2, 2, 3, 4);
        var l2 = new L2Loss().Call(pred, target).ToArray<double>();
        TensorAssert.AllClose(new L2Loss().Call(pred, target, sw).ToArray<double>(),
            [2 * l2[0], 0, 0.5 * l2[2]], Tolerances.Float64, "L2Loss (3, 1) weights");
        // A (3,) weight against a (3, 4) elementwise loss would broadcast over the wrong axis.
        using var flat = Nd.Array([2.0, 0, 0.5], new Shape(3));
        Should.Throw<ArgumentException>(() => new L2Loss().Call(pred, target, flat)).Message
            .ShouldContain("L2Loss: the sample weight of shape (3,) does not broadcast to the elementwise loss of " +
                "shape (3, 4); give one weight per sample shaped like (3, 1)");
    }

    [Test]
    public void LossesNameWhatIsWrong()
    {
        using var pred = Nd.Zeros(new Shape(2, 3), DType.Float64);
        Should.Throw<ArgumentOutOfRangeException>(() => new HuberLoss(rho: 0)).Message
            .ShouldContain("HuberLoss: rho must be a finite number above 0, got 0");
        Should.Throw<ArgumentOutOfRangeException>(() => new LogisticLoss(labelFormat: (LogisticLabelFormat)7))
            .Message.ShouldContain("LogisticLoss: label format 7 is neither Signed");
        Should.Throw<ArgumentOutOfRangeException>(() => new HingeLoss(margin: double.NaN)).Message
            .ShouldContain("HingeLoss: margin must be a finite number");
        Should.Throw<ArgumentException>(() => new TripletLoss().CallMany(pred, pred)).Message
            .ShouldContain("TripletLoss: call with (prediction, positive, negative) or (prediction, positive, " +
                "negative, sampleWeight); got 2 inputs");
        Should.Throw<ArgumentException>(() => new TripletLoss().Call(pred, pred, Nd.Zeros(5))).Message
            .ShouldContain("TripletLoss: negative shape (5,) (5 values) does not match prediction shape (2, 3)");
        Should.Throw<ArgumentException>(() => new CosineEmbeddingLoss().Call(pred, pred, Nd.Ones(3))).Message
            .ShouldContain("CosineEmbeddingLoss: 3 labels (shape (3,)) for 2 pairs of vectors");
        Should.Throw<ArgumentException>(() =>
                new SigmoidBinaryCrossEntropyLoss().Call(pred, pred, null, Nd.Ones(new Shape(1, 2), DType.Float64)))
            .Message.ShouldContain("posWeight of shape (1, 2) does not broadcast to the prediction's shape (2, 3)");
        using var ints = Nd.Zeros(new Shape(2, 3), DType.Int32);
        Should.Throw<ArgumentException>(() => new KLDivLoss().Call(ints, pred)).Message
            .ShouldContain("KLDivLoss: the prediction must be float32 or float64, got int32");
    }

    private static double Sq(double x) => x * x;
}
