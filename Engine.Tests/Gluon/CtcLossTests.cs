using Engine.Gluon.Losses;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// CTCLoss and the ctc_loss operator: against PyTorch's F.ctc_loss (tools/golden/gen_loss.py, blank = C - 1 as
/// Gluon's blank_label='last'), against a brute-force sum over every frame-level path, in both layouts, with and
/// without lengths, hybridized, and the errors. Runs on every device of the suite (the GPU suite binds it to its
/// device).
/// </summary>
[NonParallelizable]
[Category("Conformance")]
public class CtcLossTests(Device device) : DeviceFixture(device)
{
    public static IEnumerable<string> GoldenCases() => Golden.CaseNames("loss").Where(n => n.StartsWith("ctc_"));

    private static NDArray ToNd(Engine.IO.NpyArray a) => LossGoldenTests.ToNd(a);

    [Test]
    public void GoldenFilesArePresent() => GoldenCases().Count().ShouldBe(3, "run tools/golden/gen_loss.py");

    /// <summary>Golden scores are TNC and labels NT; each case also runs as NTC and TN by transposing.</summary>
    [TestCaseSource(nameof(GoldenCases))]
    public void LossAndGradientMatchPyTorch(string name)
    {
        var g = Golden.Load("loss", name);
        foreach (var (layout, labelLayout) in new[] { ("TNC", "NT"), ("NTC", "TN") })
        {
            using var scope = NDArray.Scope();
            var scores = ToNd(g["pred"]);
            var pred = layout == "TNC" ? scores : scores.Transpose(1, 0, 2).Copy();
            var label = labelLayout == "NT" ? ToNd(g["label"]) : ToNd(g["label"]).Transpose(1, 0).Copy();
            pred.AttachGrad();
            NDArray loss;
            using (Engine.Autograd.Record())
                loss = new CTCLoss(layout, labelLayout).Call(pred, label, ToNd(g["pred_lengths"]),
                    ToNd(g["label_lengths"]));
            Engine.Autograd.Backward([loss], [ToNd(g["dloss"])]);
            string what = $"{name} {layout}/{labelLayout}";
            TensorAssert.AllClose(loss.ToArray<double>(), g["loss"].ToFloat64(), new Tolerance(1e-10, 1e-10),
                what + " loss");
            var grad = layout == "TNC" ? pred.Grad! : pred.Grad!.Transpose(1, 0, 2).Copy();
            TensorAssert.AllClose(grad.ToArray<double>(), g["dpred"].ToFloat64(), new Tolerance(1e-9, 1e-10),
                what + " dpred");
        }
    }

    [Test]
    public void LabelsEndAtTheFirstPaddingWhenNoLengthsAreGiven()
    {
        var g = Golden.Load("loss", "ctc_full_lengths");
        using var scope = NDArray.Scope();
        using var loss = new CTCLoss("TNC").Call(ToNd(g["pred"]), ToNd(g["label"]));
        TensorAssert.AllClose(loss.ToArray<double>(), g["loss"].ToFloat64(), new Tolerance(1e-10, 1e-10), "padded");
    }

    /// <summary>p(label) summed over all C^T paths that collapse to it: merge repeats, then drop blanks.</summary>
    private static double BruteForceLoss(double[] scores, int time, int classes, int[] label, int blank)
    {
        var logp = new double[time * classes];
        for (int t = 0; t < time; t++)
        {
            double max = Enumerable.Range(0, classes).Max(c => scores[t * classes + c]);
            double sum = Enumerable.Range(0, classes).Sum(c => Math.Exp(scores[t * classes + c] - max));
            for (int c = 0; c < classes; c++) logp[t * classes + c] = scores[t * classes + c] - max - Math.Log(sum);
        }
        double p = 0;
        var path = new int[time];
        for (long code = 0; code < (long)Math.Pow(classes, time); code++)
        {
            long rest = code;
            for (int t = 0; t < time; t++, rest /= classes) path[t] = (int)(rest % classes);
            var collapsed = new List<int>();
            for (int t = 0; t < time; t++)
                if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) collapsed.Add(path[t]);
            if (!collapsed.SequenceEqual(label)) continue;
            p += Math.Exp(Enumerable.Range(0, time).Sum(t => logp[t * classes + path[t]]));
        }
        return -Math.Log(p);
    }

    [TestCase(CtcBlank.Last)]
    [TestCase(CtcBlank.First)]
    public void OperatorMatchesTheSumOverEveryPath(CtcBlank blank)
    {
        const int time = 5, classes = 4;
        int b = blank == CtcBlank.First ? 0 : classes - 1;
        int pad = blank == CtcBlank.First ? 0 : -1;
        // Symbols avoid the blank; the last label repeats a symbol and the third is empty.
        int s0 = blank == CtcBlank.First ? 1 : 0, s1 = s0 + 1, s2 = s0 + 2;
        int[][] labels = [[s0, s1, s2], [s1, s0], [], [s2, s2]];
        var rng = new Random(3);
        using var scope = NDArray.Scope();
        var scores = TestData.UniformDouble(rng, time * labels.Length * classes, -2, 2);
        var data = Nd.Array(scores, new Shape(time, labels.Length, classes));
        var padded = labels.SelectMany(l => l.Concat(Enumerable.Repeat(pad, 3 - l.Length)))
            .Select(v => (double)v).ToArray();
        var loss = Nd.CtcLoss(data, Nd.Array(padded, new Shape(labels.Length, 3)), blank: blank).ToArray<double>();
        for (int n = 0; n < labels.Length; n++)
        {
            var sample = new double[time * classes];
            for (int t = 0; t < time; t++)
                Array.Copy(scores, (t * labels.Length + n) * classes, sample, t * classes, classes);
            loss[n].ShouldBe(BruteForceLoss(sample, time, classes, labels[n], b), 1e-10, $"sample {n}");
        }
    }

    [Test]
    public void AnImpossibleLabelHasInfiniteLossAndZeroGradient()
    {
        using var scope = NDArray.Scope();
        var pred = Nd.Array(TestData.UniformDouble(new Random(1), 3 * 2 * 4, -1, 1), new Shape(3, 2, 4));
        // Sample 0 needs 4 frames (0, blank, 0, 1) but has 3; sample 1 is feasible.
        var label = Nd.Array([0.0, 0, 1, 2, -1, -1], new Shape(2, 3));
        pred.AttachGrad();
        NDArray loss;
        using (Engine.Autograd.Record()) loss = new CTCLoss("TNC").Call(pred, label);
        loss.Backward();
        var l = loss.ToArray<double>();
        double.IsPositiveInfinity(l[0]).ShouldBeTrue();
        double.IsFinite(l[1]).ShouldBeTrue();
        var grad = pred.Grad!.ToArray<double>();
        for (int t = 0; t < 3; t++)
        for (int c = 0; c < 4; c++)
        {
            grad[(t * 2 + 0) * 4 + c].ShouldBe(0);
            double.IsFinite(grad[(t * 2 + 1) * 4 + c]).ShouldBeTrue();
        }
    }

    [Test]
    public void HybridizedGivesTheImperativeLossAndGradient()
    {
        var g = Golden.Load("loss", "ctc_var_lengths");
        (double[], double[]) Run(bool hybridize)
        {
            var loss = new CTCLoss("TNC");
            if (hybridize) loss.Hybridize();
            double[] values = [], grad = [];
            for (int call = 0; call < 2; call++)
            {
                var pred = ToNd(g["pred"]);
                pred.AttachGrad();
                NDArray l;
                using (Engine.Autograd.Record())
                    l = loss.Call(pred, ToNd(g["label"]), ToNd(g["pred_lengths"]), sampleWeight: Nd.Array(
                        [1.0, 2, 0.5, 1], new Shape(4)));
                l.Backward();
                (values, grad) = (l.ToArray<double>(), pred.Grad!.ToArray<double>());
            }
            return (values, grad);
        }
        using var scope = NDArray.Scope();
        var (imperative, gradImperative) = Run(false);
        var (hybrid, gradHybrid) = Run(true);
        TensorAssert.AllClose(hybrid, imperative, Tolerances.Float64, "loss");
        TensorAssert.AllClose(gradHybrid, gradImperative, Tolerances.Float64, "gradient");
        var expected = g["loss"].ToFloat64().Zip(new[] { 1.0, 2, 0.5, 1 }, (a, w) => a * w).ToArray();
        TensorAssert.AllClose(imperative, expected, new Tolerance(1e-10, 1e-10), "weighted against PyTorch");
    }

    [Test]
    public void Float32RunsAndAgreesWithFloat64()
    {
        var g = Golden.Load("loss", "ctc_full_lengths");
        using var scope = NDArray.Scope();
        var loss = new CTCLoss("TNC").Call(ToNd(g["pred"]).AsType(DType.Float32), ToNd(g["label"]));
        loss.DType.ShouldBe(DType.Float32);
        TensorAssert.AllClose(loss.ToArray<double>(), g["loss"].ToFloat64(), Tolerances.Golden, "float32");
    }

    [Test]
    public void ErrorsNameTheLossAndTheFix()
    {
        using var scope = NDArray.Scope();
        var pred = Nd.Zeros(new Shape(2, 5, 4), DType.Float64);
        Should.Throw<ArgumentException>(() => new CTCLoss("NCT")).Message
            .ShouldContain("CTCLoss: layout must be \"NTC\" or \"TNC\"");
        Should.Throw<ArgumentException>(() => new CTCLoss(labelLayout: "TT")).Message
            .ShouldContain("CTCLoss: labelLayout must be \"NT\" or \"TN\"");
        Should.Throw<ArgumentException>(() => new CTCLoss().Call(pred, Nd.Array([0.0, 3, 1, 2], new Shape(2, 2))))
            .Message.ShouldContain("ctc_loss: label 3 at (sample 0, position 1) is not a symbol: symbols are 0 to 3 " +
                "except the blank 3");
        Should.Throw<ArgumentException>(() => new CTCLoss().Call(pred, Nd.Zeros(new Shape(3, 2), DType.Float64)))
            .Message.ShouldContain("ctc_loss: label must be (batch, label length) = (2, L)");
        Should.Throw<ArgumentException>(() => new CTCLoss().Call(pred, Nd.Zeros(new Shape(2, 2), DType.Float64),
                Nd.Array([5.0, 6], new Shape(2))))
            .Message.ShouldContain("ctc_loss: sequence length 6 of sample 1 is outside [0, 5]");
        Should.Throw<ArgumentException>(() => new CTCLoss().Call(Nd.Zeros(new Shape(2, 5), DType.Float64),
            Nd.Zeros(new Shape(2, 2), DType.Float64))).Message.ShouldContain("CTCLoss: the prediction must be");
    }
}
