using Engine.Gluon.Losses;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The losses PyTorch has an equivalent of, against tools/golden/gen_loss.py: each golden case holds float64
/// inputs, the per-sample loss as MXNet defines it, a head gradient and the gradient of the prediction, which the
/// loss block must reproduce imperatively under autograd.
/// </summary>
[NonParallelizable]
public class LossGoldenTests
{
    private static readonly Tolerance Tol = new(1e-9, 1e-10);

    public static IEnumerable<string> Cases() => Golden.CaseNames("loss").Where(n => !n.StartsWith("ctc_"));

    [Test]
    public void GoldenFilesArePresent() => Cases().Count().ShouldBeGreaterThanOrEqualTo(14,
        "run /usr/bin/python3 tools/golden/gen_loss.py");

    [TestCaseSource(nameof(Cases))]
    public void LossAndGradientMatchPyTorch(string name)
    {
        var g = Golden.Load("loss", name);
        using var scope = NDArray.Scope();
        var pred = ToNd(g["pred"]);
        pred.AttachGrad();
        NDArray loss;
        using (Engine.Autograd.Record()) loss = Run(name, g, pred);
        loss.Shape.ShouldBe(g["loss"].Shape, name);
        Engine.Autograd.Backward([loss], [ToNd(g["dloss"])]);
        double tightness = name.StartsWith("bce_sigmoid") || name.StartsWith("cosine") ? 1e4 : 1;
        var tol = new Tolerance(Tol.Rtol * tightness, Tol.Atol * tightness);
        TensorAssert.AllClose(loss.ToArray<double>(), g["loss"].ToFloat64(), tol, name + " loss");
        TensorAssert.AllClose(pred.Grad!.ToArray<double>(), g["dpred"].ToFloat64(), tol, name + " dpred");
    }

    /// <summary>The MXNet loss for a golden case; KLDiv's 1e-12 inside the log, the eps of 1e-12 of
    /// probabilities and cosine's eps differ from PyTorch by less than the tolerance.</summary>
    private static NDArray Run(string name, GoldenCase g, NDArray pred)
    {
        var a = g.Attrs;
        if (name.StartsWith("bce_"))
        {
            var bce = new SigmoidBinaryCrossEntropyLoss(fromSigmoid: a.GetProperty("from_sigmoid").GetBoolean());
            var posWeight = g.Arrays.TryGetValue("pos_weight", out var pw) ? ToNd(pw) : null;
            return bce.Call(pred, ToNd(g["label"]), null, posWeight);
        }
        if (name.StartsWith("kldiv_"))
            return new KLDivLoss(a.GetProperty("from_logits").GetBoolean(), a.GetProperty("axis").GetInt32())
                .Call(pred, ToNd(g["label"]));
        if (name.StartsWith("huber_"))
            return new HuberLoss(a.GetProperty("rho").GetDouble()).Call(pred, ToNd(g["label"]));
        if (name.StartsWith("logistic_"))
            return new LogisticLoss().Call(pred, ToNd(g["label"]));
        if (name.StartsWith("cosine_"))
            return new CosineEmbeddingLoss(margin: a.GetProperty("margin").GetDouble())
                .Call(pred, ToNd(g["input2"]), ToNd(g["label"]));
        if (name.StartsWith("poisson_"))
            return new PoissonNLLLoss(fromLogits: a.GetProperty("from_logits").GetBoolean(),
                computeFull: a.GetProperty("compute_full").GetBoolean()).Call(pred, ToNd(g["target"]));
        throw new InvalidOperationException($"no loss for golden case {name}");
    }

    internal static NDArray ToNd(Engine.IO.NpyArray a) => Nd.Array(a.ToFloat64(), a.Shape);
}
