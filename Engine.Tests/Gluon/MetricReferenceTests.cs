using Engine.Gluon.Metrics;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// MAE, MSE, RMSE, F1, MCC, Perplexity, PearsonCorrelation and CompositeEvalMetric against the formulas written
/// out here in plain double arithmetic (scikit-learn's and NumPy's definitions, with MXNet 1.x's per-update
/// averaging), including empty updates and batches of a single class.
/// </summary>
public class MetricReferenceTests
{
    private static NDArray Arr(double[] values, params int[] shape) => Nd.Array(values, new Shape(shape));

    private static double[] Uniform(Random r, int n, double low = -1, double high = 1) =>
        TestData.UniformDouble(r, n, low, high);

    [Test]
    public void RegressionMetricsAverageTheErrorOfEachBatch()
    {
        var rng = new Random(1);
        var (l1, p1, l2, p2) = (Uniform(rng, 6), Uniform(rng, 6), Uniform(rng, 2), Uniform(rng, 2));
        var metrics = new EvalMetric[] { new MAE(), new MSE(), new RMSE() };
        metrics.Select(m => m.Get().Name).ShouldBe(["mae", "mse", "rmse"]);
        foreach (var m in metrics)
        {
            m.Update(Arr(l1, 3, 2), Arr(p1, 3, 2));
            // 1-D labels and (n, 1) predictions are both columns.
            m.Update(Arr(l2, 2), Arr(p2, 2, 1));
        }
        double Mean(double[] l, double[] p, Func<double, double> f) => l.Zip(p, (a, b) => f(a - b)).Average();
        metrics[0].Get().Value.ShouldBe((Mean(l1, p1, Math.Abs) + Mean(l2, p2, Math.Abs)) / 2, 1e-15);
        metrics[1].Get().Value.ShouldBe((Mean(l1, p1, x => x * x) + Mean(l2, p2, x => x * x)) / 2, 1e-15);
        metrics[2].Get().Value.ShouldBe(
            (Math.Sqrt(Mean(l1, p1, x => x * x)) + Math.Sqrt(Mean(l2, p2, x => x * x))) / 2, 1e-15);
        metrics[0].NumInstances.ShouldBe(2);

        // A (n,) label against (n, 2) predictions broadcasts as MXNet's NumPy code does.
        var mae = new MAE();
        mae.Update(Arr([1, 2], 2), Arr([0, 3, 1, 1], 2, 2));
        mae.Get().Value.ShouldBe((1 + 2 + 1 + 1) / 4.0, 1e-15);
        Should.Throw<ArgumentException>(() => mae.Update(Arr([1, 2, 3], 3), Arr([0, 3, 1, 1], 2, 2))).Message
            .ShouldContain("MAE: labels (3,) and predictions (2, 2) do not broadcast together");
    }

    /// <summary>Binary labels and (n, 2) scores whose argmax is the predicted class.</summary>
    private static (NDArray Labels, NDArray Scores, int[] L, int[] P) Binary(Random rng, int n)
    {
        var l = Enumerable.Range(0, n).Select(_ => rng.Next(2)).ToArray();
        var p = Enumerable.Range(0, n).Select(_ => rng.Next(2)).ToArray();
        var scores = p.SelectMany(c => c == 1 ? new[] { 0.2, 0.8 } : [0.7, 0.3]).ToArray();
        return (Arr(l.Select(v => (double)v).ToArray(), n), Arr(scores, n, 2), l, p);
    }

    private static (double Tp, double Fp, double Fn, double Tn) Counts(int[] l, int[] p) => (
        l.Zip(p).Count(x => x.First == 1 && x.Second == 1), l.Zip(p).Count(x => x.First == 0 && x.Second == 1),
        l.Zip(p).Count(x => x.First == 1 && x.Second == 0), l.Zip(p).Count(x => x.First == 0 && x.Second == 0));

    /// <summary>scikit-learn's f1_score(average='binary'), with 0 where precision + recall is 0.</summary>
    private static double NaiveF1(int[] l, int[] p)
    {
        var (tp, fp, fn, _) = Counts(l, p);
        double precision = tp + fp > 0 ? tp / (tp + fp) : 0, recall = tp + fn > 0 ? tp / (tp + fn) : 0;
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    }

    [Test]
    public void F1MacroAveragesBatchesAndMicroPoolsCounts()
    {
        var rng = new Random(2);
        var a = Binary(rng, 20);
        var b = Binary(rng, 7);
        var macro = new F1();
        var micro = new F1(average: MetricAverage.Micro);
        macro.Get().Name.ShouldBe("f1");
        foreach (var m in new[] { macro, micro })
        {
            m.Update(a.Labels, a.Scores);
            m.Update(b.Labels, b.Scores);
        }
        macro.Get().Value.ShouldBe((NaiveF1(a.L, a.P) + NaiveF1(b.L, b.P)) / 2, 1e-15);
        micro.Get().Value.ShouldBe(NaiveF1([.. a.L, .. b.L], [.. a.P, .. b.P]), 1e-15);
        micro.NumInstances.ShouldBe(27);

        // One class only: all negative gives 0 (no positives predicted), all positive and right gives 1.
        var f1 = new F1();
        f1.Update(Arr([0, 0, 0], 3), Arr([1, 0, 1, 0, 1, 0], 3, 2));
        f1.Get().Value.ShouldBe(0);
        f1.Reset();
        f1.Update(Arr([1, 1], 2), Arr([0, 1, 0, 1], 2, 2));
        f1.Get().Value.ShouldBe(1);
        // An empty update counts as one batch of F1 0 under Macro, as in MXNet, and adds nothing under Micro.
        f1.Update(Nd.Zeros(new Shape(0), DType.Float64), Nd.Zeros(new Shape(0, 2), DType.Float64));
        f1.Get().Value.ShouldBe(0.5);
        var pooled = new F1(average: MetricAverage.Micro);
        pooled.Update(Nd.Zeros(new Shape(0), DType.Float64), Nd.Zeros(new Shape(0, 2), DType.Float64));
        double.IsNaN(pooled.Get().Value).ShouldBeTrue();

        Should.Throw<ArgumentException>(() => f1.Update(Arr([2], 1), Arr([0, 1], 1, 2))).Message
            .ShouldContain("F1: label 2 is not 0 or 1");
        Should.Throw<ArgumentException>(() => f1.Update(Arr([1], 1), Arr([0, 1, 0], 1, 3))).Message
            .ShouldContain("F1: predictions must be (batch, 2) scores");
    }

    [Test]
    public void MccMatchesTheTextbookFormulaAndIsZeroForOneClass()
    {
        var rng = new Random(3);
        var a = Binary(rng, 40);
        var b = Binary(rng, 13);
        double Textbook(int[] l, int[] p)
        {
            var (tp, fp, fn, tn) = Counts(l, p);
            return (tp * tn - fp * fn) / Math.Sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
        }
        var macro = new MCC();
        var micro = new MCC(average: MetricAverage.Micro);
        macro.Get().Name.ShouldBe("mcc");
        foreach (var m in new[] { macro, micro })
        {
            m.Update(a.Labels, a.Scores);
            m.Update(b.Labels, b.Scores);
        }
        macro.Get().Value.ShouldBe((Textbook(a.L, a.P) + Textbook(b.L, b.P)) / 2, 1e-14);
        micro.Get().Value.ShouldBe(Textbook([.. a.L, .. b.L], [.. a.P, .. b.P]), 1e-14);

        var one = new MCC();
        one.Update(Arr([1, 1, 1], 3), Arr([0, 1, 0, 1, 0, 1], 3, 2));
        one.Get().Value.ShouldBe(0, "MXNet divides by the product of the non-zero terms only");
    }

    [Test]
    public void PerplexityIsTheExpOfTheMeanNegativeLogProbabilitySkippingIgnoredLabels()
    {
        var rng = new Random(4);
        using var probs = Nd.Softmax(Arr(Uniform(rng, 12, -2, 2), 4, 3));
        var p = probs.ToArray<double>();
        double[] labels = [2, 0, 1, 1];
        var ppl = new Perplexity(ignoreLabel: 1);
        ppl.Get().Name.ShouldBe("perplexity");
        ppl.Update(Arr(labels, 4), probs);
        ppl.Get().Value.ShouldBe(Math.Exp(-(Math.Log(p[2]) + Math.Log(p[3])) / 2), 1e-12);
        ppl.NumInstances.ShouldBe(2);

        // Classes on axis 1 of (batch, classes, time), one label per (batch, time).
        using var seq = Nd.Softmax(Arr(Uniform(rng, 2 * 3 * 4, -2, 2), 2, 3, 4), axis: 1);
        var s = seq.ToArray<double>();
        var seqLabels = new double[] { 0, 1, 2, 0, 2, 2, 1, 0 };
        var byAxis = new Perplexity(ignoreLabel: null, axis: 1);
        byAxis.Update(Arr(seqLabels, 2, 4), seq);
        double nll = 0;
        for (int b = 0; b < 2; b++)
        for (int t = 0; t < 4; t++)
            nll -= Math.Log(s[(b * 3 + (int)seqLabels[b * 4 + t]) * 4 + t]);
        byAxis.Get().Value.ShouldBe(Math.Exp(nll / 8), 1e-12);

        Should.Throw<ArgumentException>(() => new Perplexity(null).Update(Arr([3], 1), Arr([0.5, 0.5], 1, 2)))
            .Message.ShouldContain("Perplexity: label 3 at 0 is not a class index of predictions (1, 2)");
    }

    private static double Corr(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        double sxy = x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum();
        return sxy / Math.Sqrt(x.Sum(a => (a - mx) * (a - mx)) * y.Sum(b => (b - my) * (b - my)));
    }

    [Test]
    public void PearsonMacroAveragesBatchCorrelationsAndMicroCorrelatesEverything()
    {
        var rng = new Random(5);
        var (l1, l2) = (Uniform(rng, 8, 0, 10), Uniform(rng, 5, 3, 4));
        var p1 = l1.Select(v => v + rng.NextDouble()).ToArray();
        var p2 = l2.Select(v => -v + rng.NextDouble()).ToArray();
        var macro = new PearsonCorrelation();
        var micro = new PearsonCorrelation(average: MetricAverage.Micro);
        macro.Get().Name.ShouldBe("pearsonr");
        foreach (var m in new[] { macro, micro })
        {
            m.Update(Arr(l1, 4, 2), Arr(p1, 4, 2));
            m.Update(Arr(l2, 5), Arr(p2, 5));
        }
        macro.Get().Value.ShouldBe((Corr(l1, p1) + Corr(l2, p2)) / 2, 1e-13);
        micro.Get().Value.ShouldBe(Corr([.. l1, .. l2], [.. p1, .. p2]), 1e-13);
        micro.Reset();
        double.IsNaN(micro.Get().Value).ShouldBeTrue();
        micro.Update(Arr(l2, 5), Arr(p2, 5));
        micro.Get().Value.ShouldBe(Corr(l2, p2), 1e-13);

        var constant = new PearsonCorrelation();
        constant.Update(Arr([1, 1, 1], 3), Arr([1, 2, 3], 3));
        double.IsNaN(constant.Get().Value).ShouldBeTrue("NumPy's corrcoef of a constant is NaN");
    }

    [Test]
    public void CompositeUpdatesEveryChildAndReportsTheirNamesAndValues()
    {
        var inner = new CompositeEvalMetric([new RMSE()]);
        var composite = new CompositeEvalMetric([new MAE()]);
        composite.Add(new MSE());
        composite.Add(inner);
        composite.Name.ShouldBe("composite");
        composite.Update(Arr([1, 2, 3], 3), Arr([1, 0, 0], 3));
        var (names, values) = composite.Get();
        names.ShouldBe(["mae", "mse", "rmse"]);
        values[0].ShouldBe(5 / 3.0, 1e-15);
        values[1].ShouldBe(13 / 3.0, 1e-15);
        values[2].ShouldBe(Math.Sqrt(13 / 3.0), 1e-15);
        composite.GetMetric(1).ShouldBeOfType<MSE>();
        Should.Throw<ArgumentOutOfRangeException>(() => composite.GetMetric(3)).Message
            .ShouldContain("CompositeEvalMetric: metric index 3 is out of range 0 and 3");
        composite.ToString().ShouldStartWith("EvalMetric: {'mae': 1.66666");
        composite.Reset();
        composite.Get().Values.ShouldAllBe(v => double.IsNaN(v));
        inner.GetMetric(0).NumInstances.ShouldBe(0);
    }
}
