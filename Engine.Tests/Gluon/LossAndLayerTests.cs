using Engine.Gluon;
using Engine.Gluon.Losses;
using Engine.Gluon.NN;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>Losses and layers against formulas computed here in double precision.</summary>
[NonParallelizable]
public class LossAndLayerTests
{
    private static readonly float[,] Logits = { { 1, 2, 0.5f }, { -1, 0, 3 } };
    private static readonly float[] Labels = [1, 2];

    private static double[] LogSoftmaxRow(float[,] x, int r)
    {
        int n = x.GetLength(1);
        double max = Enumerable.Range(0, n).Max(j => (double)x[r, j]);
        double sum = Enumerable.Range(0, n).Sum(j => Math.Exp(x[r, j] - max));
        return Enumerable.Range(0, n).Select(j => x[r, j] - max - Math.Log(sum)).ToArray();
    }

    [Test]
    public void SoftmaxCrossEntropyWithSparseDenseAndLogProbabilityInputs()
    {
        using var pred = Nd.Array(Logits);
        using var label = Nd.Array(Labels);
        var expected = new[] { -LogSoftmaxRow(Logits, 0)[1], -LogSoftmaxRow(Logits, 1)[2] };
        using (var l = new SoftmaxCrossEntropyLoss().Call(pred, label))
            TensorAssert.AllClose(l.ToArray<float>().Select(v => (double)v).ToArray(), expected,
                Tolerances.Golden, "sparse");
        using var onehot = Nd.OneHot(label, 3);
        using (var l = new SoftmaxCrossEntropyLoss(sparseLabel: false).Call(pred, onehot))
            TensorAssert.AllClose(l.ToArray<float>().Select(v => (double)v).ToArray(), expected,
                Tolerances.Golden, "dense");
        using var logp = Nd.LogSoftmax(pred);
        using (var l = new SoftmaxCrossEntropyLoss(fromLogits: true).Call(logp, label))
            TensorAssert.AllClose(l.ToArray<float>().Select(v => (double)v).ToArray(), expected,
                Tolerances.Golden, "from log-probabilities");
        using (var l = new SoftmaxCrossEntropyLoss(weight: 2).Call(pred, label))
            l.ToArray()[0].ShouldBe((float)(2 * expected[0]), 1e-5f);
    }

    [Test]
    public void RegressionLossesAverageOverNonBatchAxes()
    {
        using var pred = Nd.Array(new float[,] { { 1, 2 }, { 3, 5 } });
        using var label = Nd.Array(new float[,] { { 0, 2 }, { 1, 1 } });
        using (var l2 = new L2Loss().Call(pred, label)) l2.ToArray().ShouldBe([0.25f, 5f]);
        using (var l1 = new L1Loss().Call(pred, label)) l1.ToArray().ShouldBe([0.5f, 3f]);
        using var flat = Nd.Array([0f, 2, 1, 1], new Shape(4));
        Should.Throw<ArgumentException>(() => new L2Loss().Call(pred, Nd.Zeros(3))).Message
            .ShouldContain("L2Loss: label shape (3,) (3 values) does not match prediction shape (2, 2) (4 values)");
    }

    [Test]
    public void SigmoidBinaryCrossEntropyIsStableForLargeLogits()
    {
        float[] x = [-100, -1, 0, 2, 100];
        float[] z = [0, 1, 1, 0, 1];
        using var pred = Nd.Array(x, new Shape(5, 1));
        using var label = Nd.Array(z, new Shape(5, 1));
        using var l = new SigmoidBinaryCrossEntropyLoss().Call(pred, label);
        var expected = x.Zip(z, (a, b) => Math.Max(a, 0) - a * b + Math.Log(1 + Math.Exp(-Math.Abs(a)))).ToArray();
        TensorAssert.AllClose(l.ToArray<float>().Select(v => (double)v).ToArray(), expected, Tolerances.Golden, "bce");
        using var p = Nd.Sigmoid(pred);
        using var fromSigmoid = new SigmoidBinaryCrossEntropyLoss(fromSigmoid: true).Call(p, label);
        fromSigmoid.ToArray()[1].ShouldBe((float)expected[1], 1e-4f);
    }

    [Test]
    public void BatchNormMovesRunningStatisticsOnlyWhileTraining()
    {
        var bn = new BatchNorm(momentum: 0.9);
        bn.Initialize();
        using var x = Nd.Array(new float[,] { { 1, 10 }, { 3, 30 } });
        using (var y = bn.Call(x)) y.ToArray().ShouldBe([1f, 10, 3, 30], tolerance: 1e-3f);
        bn.RunningMean.Data().ToArray().ShouldBe([0f, 0f]);
        using (Engine.Autograd.Record())
        using (var y = bn.Call(x))
        {
            // Batch statistics: mean (2, 20), biased variance (1, 100): normalised values are -1 and 1.
            y.ToArray().ShouldBe([-1f, -1, 1, 1], tolerance: 1e-3f);
        }
        bn.RunningMean.Data().ToArray().ShouldBe([0.2f, 2f], tolerance: 1e-5f);
        bn.RunningVar.Data().ToArray().ShouldBe([0.9f + 0.1f * 1, 0.9f + 0.1f * 100], tolerance: 1e-4f);
        bn.ToString().ShouldContain("BatchNorm(axis=1");
    }

    [Test]
    public void DropoutLayerFollowsTheTrainingFlag()
    {
        var drop = new Dropout(0.5);
        using var x = Nd.Ones(1000);
        using (var y = drop.Call(x)) y.ToArray().ShouldAllBe(v => v == 1f);
        using (Engine.Autograd.Record())
        using (var y = drop.Call(x))
        {
            var v = y.ToArray();
            v.Count(e => e == 0).ShouldBeInRange(400, 600);
            v.Where(e => e != 0).ShouldAllBe(e => e == 2f);
        }
    }

    [Test]
    public void EmbeddingConv1DAndFlattenShapes()
    {
        var emb = new Embedding(10, 4);
        emb.Initialize();
        using var idx = Nd.Array([1f, 9, 0], new Shape(3));
        using (var e = emb.Call(idx))
        {
            e.Shape.ShouldBe(new Shape(3, 4));
            e.ToArray()[..4].ShouldBe(emb.Weight.Data()[1].ToArray());
        }
        var conv = new Conv1D(5, 3, padding: 1);
        conv.Initialize();
        using var seq = Nd.Ones(2, 4, 7);
        using (var y = conv.Call(seq)) y.Shape.ShouldBe(new Shape(2, 5, 7));
        conv.ToString().ShouldBe("Conv1D(4 -> 5, kernel_size=(3,), stride=(1,), padding=(1,))");
        using var img = Nd.Ones(2, 3, 4, 5);
        using (var f = new Flatten().Call(img)) f.Shape.ShouldBe(new Shape(2, 60));
        Should.Throw<ArgumentException>(() => conv.Call(img)).Message.ShouldContain("expects input of rank 3");
        Should.Throw<ArgumentException>(() => new Activation("gelu")).Message.ShouldContain("unknown activation");
    }

    [Test]
    public void SummaryListsLayersShapesAndCounts()
    {
        var net = new Sequential();
        net.Add(new Dense(4, inUnits: 3, activation: "relu"), new Dense(2, inUnits: 4));
        net.Initialize();
        using var x = Nd.Ones(1, 3);
        string table = net.Summary(x);
        table.ShouldContain("Dense-1");
        table.ShouldContain("(1, 4)");
        table.ShouldContain("Total params: 26");
    }

    [Test]
    public void CastConvertsParameters()
    {
        var d = new Dense(2, inUnits: 2);
        d.Initialize();
        d.Cast(DType.Float64);
        d.Weight.Data().DType.ShouldBe(DType.Float64);
        using var x = Nd.Array(new double[] { 1, 2 }, new Shape(1, 2));
        using var y = d.Call(x);
        y.DType.ShouldBe(DType.Float64);
    }
}
