using Engine.Gluon;
using Engine.Gluon.Losses;
using Engine.Gluon.NN;

namespace Engine.Tests.Reliability;

public class ErrorMessageTests
{
    [Test]
    public void SoftmaxCrossEntropyRaisesOnOutOfRangeLabelsOnEveryPath()
    {
        using var logits2 = Nd.Array(new float[,] { { 1, 2, 3, 4 }, { 0, 0, 1, 0 } });
        using var logits3 = logits2.Reshape(1, 2, 4);
        using var bad = Nd.Array([1f, 4f]);
        using var negative = Nd.Array([-1f, 2f]);
        // The fused 2-D path raised already; the one-hot path (3-D) and fromLogits must too.
        Should.Throw<ArgumentException>(() => new SoftmaxCrossEntropyLoss().Call(logits2, bad));
        var e = Should.Throw<ArgumentException>(() => new SoftmaxCrossEntropyLoss().Call(logits3, bad.Reshape(1, 2)));
        e.Message.ShouldContain("label 4");
        e.Message.ShouldContain("[0, 4)");
        Should.Throw<ArgumentException>(() => new SoftmaxCrossEntropyLoss(fromLogits: true).Call(logits2, bad))
            .Message.ShouldContain("SoftmaxCrossEntropyLoss");
        Should.Throw<ArgumentException>(() => new SoftmaxCrossEntropyLoss(fromLogits: true).Call(logits2, negative));
        using var half = Nd.Array([0.5f, 1f]);
        Should.Throw<ArgumentException>(() => new SoftmaxCrossEntropyLoss(axis: 1).Call(logits3.Reshape(2, 4, 1),
            half.Reshape(2, 1)));
    }

    [Test]
    public void SoftmaxCrossEntropyWithValidLabelsStillMatchesTheFusedPath()
    {
        using var logits = Nd.Array(new float[,] { { 1, 2, 3, 4 }, { 0, 0, 1, 0 } });
        using var labels = Nd.Array([3f, 0f]);
        using var fused = new SoftmaxCrossEntropyLoss().Call(logits, labels);
        using var onehot = new SoftmaxCrossEntropyLoss().Call(logits.Reshape(1, 2, 4), labels.Reshape(1, 2));
        using var logp = Nd.LogSoftmax(logits, 1);
        using var fromLogits = new SoftmaxCrossEntropyLoss(fromLogits: true).Call(logp, labels);
        var expected = fused.ToArray();
        onehot.ToArray()[0].ShouldBe(expected.Average(), 1e-5);
        fromLogits.ToArray().ShouldBe(expected, 1e-5);
    }

    [Test]
    public void SlicingPastTheEndNamesTheRangeAndTheShape()
    {
        using var x = Nd.Zeros(new Shape(4, 2));
        var e = Should.Throw<ArgumentOutOfRangeException>(() => x[1..10]);
        e.Message.ShouldContain("[1, 10)");
        e.Message.ShouldContain("size 4");
        e.Message.ShouldContain("(4, 2)");
        Should.Throw<ArgumentOutOfRangeException>(() => x[3..1]);
        using var ok = x[1..^1];
        ok.Shape.ShouldBe(new Shape(2, 2));
    }

    [TestCase(double.NaN, 5.0)]
    [TestCase(0.0, double.NaN)]
    [TestCase(0.0, double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity, 0.0)]
    public void ArangeRejectsNonFiniteBounds(double start, double stop)
    {
        var e = Should.Throw<ArgumentException>(() => Nd.Arange(start, stop));
        e.Message.ShouldContain("arange");
        e.Message.ShouldContain("finite");
    }

    [Test]
    public void ArangeRejectsStepsThatNeedTooManyElements()
    {
        Should.Throw<ArgumentException>(() => Nd.Arange(0, 1e12, 1)).Message.ShouldContain("arange");
        Should.Throw<ArgumentException>(() => Nd.Arange(0, 10, double.PositiveInfinity)).Message.ShouldContain("step");
    }

    [Test]
    public void OneHotErrorsNameOneHot()
    {
        using var indices = Nd.Array([0.5f, 1f]);
        var e = Should.Throw<ArgumentException>(() => Nd.OneHot(indices, 3));
        e.Message.ShouldStartWith("one_hot:");
    }

    [Test]
    public void ABadRegexInCollectParamsNamesTheBlockAndThePattern()
    {
        var net = new Dense(3);
        var e = Should.Throw<ArgumentException>(() => net.CollectParams("weight("));
        e.Message.ShouldContain("Dense.CollectParams");
        e.Message.ShouldContain("'weight('");
        e.Message.ShouldContain("regular expression");
    }

    [Test]
    public void ReluOfNaNIsNaNAndPassesItsGradientAsPyTorchDoes()
    {
        // PyTorch 1.13: relu([nan, -1, 2, 0]) = [nan, 0, 2, 0]; with upstream 3, x.grad = [3, 0, 3, 0].
        foreach (int n in new[] { 4, 67 })
        {
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = (i % 4) switch { 0 => float.NaN, 1 => -1, 2 => 2, _ => 0 };
            using var x = Nd.Array(values);
            x.AttachGrad();
            NDArray y;
            using (Engine.Autograd.Record()) y = Nd.Relu(x);
            using (y)
            {
                y.Backward(Nd.Full(new Shape(n), 3.0));
                var got = y.ToArray();
                var grad = x.Grad!.ToArray();
                for (int i = 0; i < n; i++)
                {
                    float expectedY = (i % 4) switch { 0 => float.NaN, 2 => 2, _ => 0 };
                    got[i].ShouldBe(expectedY, $"relu at {i} (n {n})");
                    grad[i].ShouldBe(i % 4 is 0 or 2 ? 3f : 0f, $"gradient at {i} (n {n})");
                }
            }
        }
        using var d = Nd.Array(new[] { double.NaN, -2.0 }, new Shape(2));
        using var rd = Nd.Relu(d);
        double.IsNaN(rd.ToArray<double>()[0]).ShouldBeTrue();
    }
}
