using Engine.Tests.Support;
using AG = Engine.Autograd;

namespace Engine.Tests.Autograd;

/// <summary>MXNet's autograd behaviours (reference/mxnet-gluon-semantics.md, 1.7), as tests.</summary>
public class AutogradBehaviourTests
{
    [Test]
    public void FlagsAreIndependentAndRestored()
    {
        AG.IsRecording.ShouldBeFalse();
        AG.IsTraining.ShouldBeFalse();
        using (AG.Record())
        {
            AG.IsRecording.ShouldBeTrue();
            AG.IsTraining.ShouldBeTrue();
            using (AG.PredictMode())
            {
                AG.IsRecording.ShouldBeTrue();
                AG.IsTraining.ShouldBeFalse();
            }
            using (AG.Pause())
            {
                AG.IsRecording.ShouldBeFalse();
                AG.IsTraining.ShouldBeFalse();
            }
            using (AG.Pause(trainMode: true)) AG.IsTraining.ShouldBeTrue();
        }
        using (AG.Record(trainMode: false)) AG.IsTraining.ShouldBeFalse();
        using (AG.TrainMode())
        {
            AG.IsTraining.ShouldBeTrue();
            AG.IsRecording.ShouldBeFalse();
        }
        AG.IsRecording.ShouldBeFalse();
        AG.IsTraining.ShouldBeFalse();
    }

    [Test]
    public async Task FlagsFlowWithAsyncCodeButNotToOtherThreads()
    {
        using (AG.Record())
        {
            await Task.Yield();
            AG.IsRecording.ShouldBeTrue();
            bool other = await Task.Factory.StartNew(() => AG.IsRecording, CancellationToken.None,
                TaskCreationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            other.ShouldBeTrue("ExecutionContext flows into tasks started inside the scope");
        }
        var thread = new Thread(() => AG.IsRecording.ShouldBeFalse());
        thread.Start();
        thread.Join();
    }

    [Test]
    public void GradKeepsItsIdentityAndViewsOfItSeeEveryPass()
    {
        using var x = Nd.Array([1f, 2f, 3f, 4f]);
        x.AttachGrad();
        var grad = x.Grad!;
        for (int pass = 1; pass <= 3; pass++)
        {
            // A fresh gradient each pass; grad_req write replaces the values, in the same array.
            using (var y = Record(() => x * (float)pass)) y.Backward();
            x.Grad.ShouldBeSameAs(grad);
            grad.ToArray().ShouldBe(Enumerable.Repeat((float)pass, 4).ToArray());
        }
        // While a view of Grad exists, the values are copied in, so the view sees them too.
        using var firstTwo = grad[0..2];
        using (var y = Record(() => x * 7f)) y.Backward();
        firstTwo.ToArray().ShouldBe([7f, 7f]);
        grad.ToArray().ShouldBe([7f, 7f, 7f, 7f]);
        // The head passed straight through (y = x): the gradient is the ones array autograd made.
        using (var y = Record(() => x * 1f)) y.Backward(Nd.Full(new Shape(4), 5.0));
        grad.ToArray().ShouldBe([5f, 5f, 5f, 5f]);
    }

    private static NDArray Record(Func<NDArray> f)
    {
        using (AG.Record()) return f();
    }

    [Test]
    public void DefaultHeadGradientIsOnes()
    {
        using var x = Nd.Array([1f, 2f, 3f]);
        x.AttachGrad();
        NDArray y;
        using (AG.Record()) y = x * x;
        y.Backward();
        x.Grad!.ToArray().ShouldBe([2f, 4f, 6f]);
        y.Dispose();
    }

    [Test]
    public void GradReqAddAccumulatesAcrossBackwardPasses()
    {
        using var x = Nd.Array([1f, 2f]);
        x.AttachGrad(GradReq.Add);
        for (int i = 0; i < 2; i++)
        {
            NDArray y;
            using (AG.Record()) y = x * 3;
            y.Backward();
            y.Dispose();
        }
        x.Grad!.ToArray().ShouldBe([6f, 6f]);
        using var w = Nd.Array([1f, 2f]);
        w.AttachGrad(GradReq.Write);
        for (int i = 0; i < 2; i++)
        {
            NDArray y;
            using (AG.Record()) y = w * 3;
            y.Backward();
            y.Dispose();
        }
        w.Grad!.ToArray().ShouldBe([3f, 3f]);
    }

    [Test]
    public void GradReqNullGetsNoGradient()
    {
        using var x = Nd.Array([1f, 2f]);
        using var c = Nd.Array([5f, 5f]);
        x.AttachGrad();
        c.AttachGrad(GradReq.Null);
        NDArray y;
        using (AG.Record()) y = x * c;
        y.Backward();
        x.Grad!.ToArray().ShouldBe([5f, 5f]);
        c.Grad.ShouldBeNull();
        y.Dispose();
    }

    [Test]
    public void SecondBackwardNeedsRetainGraph()
    {
        using var x = Nd.Array([1f, 2f]);
        x.AttachGrad(GradReq.Add);
        NDArray y;
        using (AG.Record()) y = Nd.Exp(x) * 2;
        y.Backward(retainGraph: true);
        y.Backward();
        TensorAssert.AllClose(x.Grad!.ToArray(), [4 * MathF.Exp(1), 4 * MathF.Exp(2)], Tolerances.Float32Elementwise,
            "twice");
        var e = Should.Throw<InvalidOperationException>(() => y.Backward());
        e.Message.ShouldContain("retainGraph");
        y.Dispose();
    }

    [Test]
    public void BackwardOnUnrecordedArrayExplainsHowToRecord()
    {
        using var x = Nd.Array([1f]);
        using var y = x * 2;
        Should.Throw<InvalidOperationException>(() => y.Backward()).Message
            .ShouldContain("Cannot differentiate node because it is not in a computational graph");
    }

    [Test]
    public void HeadGradientOfTheWrongShapeIsRejected()
    {
        using var x = Nd.Array([1f, 2f]);
        x.AttachGrad();
        NDArray y;
        using (AG.Record()) y = x * 2;
        using var bad = Nd.Ones(3);
        Should.Throw<ArgumentException>(() => y.Backward(bad)).Message.ShouldContain("head gradient 0 has shape (3,)");
        y.Dispose();
    }

    [Test]
    public void InPlaceWritesInsideRecordAreRejected()
    {
        using var x = Nd.Array([1f, 2f]);
        x.AttachGrad();
        using (AG.Record())
        {
            using var y = x * 2;
            Should.Throw<InvalidOperationException>(() => y.Assign(Nd.Zeros(2))).Message
                .ShouldContain("Assigning to NDArrays that are already in a computational graph");
        }
    }

    [Test]
    public void InPlaceWriteAfterRecordingIsCaughtAtBackward()
    {
        using var x = Nd.Array([1f, 2f]);
        using var w = Nd.Array([3f, 4f]);
        x.AttachGrad();
        NDArray y;
        using (AG.Record()) y = x * w;
        w.Assign(Nd.Zeros(2));
        Should.Throw<InvalidOperationException>(() => y.Backward()).Message.ShouldContain("modified in place");
        y.Dispose();
    }

    [Test]
    public void DetachStopsGradientFlow()
    {
        using var x = Nd.Array([1f, 2f]);
        x.AttachGrad();
        NDArray z;
        using (AG.Record())
        {
            var y = x * x;
            z = y.Detach() * x;
        }
        z.Backward();
        x.Grad!.ToArray().ShouldBe([1f, 4f]);
        z.Dispose();
    }

    [Test]
    public void FanOutAccumulates()
    {
        using var x = Nd.Array([3f]);
        x.AttachGrad();
        NDArray y;
        using (AG.Record())
        {
            var a = x * 2;
            y = a * a + a;
        }
        y.Backward();
        // y = 4x^2 + 2x, dy/dx = 8x + 2 = 26.
        x.Grad!.ToScalar().ShouldBe(26f);
        y.Dispose();
    }

    [Test]
    public void DropoutIsIdentityOutsideTraining()
    {
        using var x = Nd.Ones(100);
        using (var y = Nd.Dropout(x, 0.5)) y.ToArray().ShouldAllBe(v => v == 1f);
        using (AG.Record(trainMode: false))
        using (var y = Nd.Dropout(x, 0.5)) y.ToArray().ShouldAllBe(v => v == 1f);
        using (AG.TrainMode())
        using (var y = Nd.Dropout(x, 0.5)) y.ToArray().ShouldContain(0f);
    }

    [Test]
    public void GradReturnsNewArraysAndLeavesGradAlone()
    {
        using var x = Nd.Array([1f, 2f]);
        x.AttachGrad();
        NDArray y;
        using (AG.Record()) y = x * x * x;
        var g = AG.Grad([y], [x]);
        g[0].ToArray().ShouldBe([3f, 12f]);
        x.Grad!.ToArray().ShouldBe([0f, 0f]);
        g[0].Dispose();
        y.Dispose();
    }

    [Test]
    public void CreateGraphGivesSecondDerivatives()
    {
        using var x = Nd.Array([0.5, 1.0, 2.0], new Shape(3));
        x.AttachGrad();
        NDArray dx;
        using (AG.Record())
        {
            var y = x * x * x + NdTestExtensions.Sin2(x);
            dx = AG.Grad([y], [x], createGraph: true)[0];
        }
        dx.Backward();
        var xv = new[] { 0.5, 1.0, 2.0 };
        // y = x^3 + tanh(x); y' = 3x^2 + 1 - tanh^2; y'' = 6x - 2 tanh (1 - tanh^2).
        var expected = xv.Select(v => 6 * v - 2 * Math.Tanh(v) * (1 - Math.Tanh(v) * Math.Tanh(v))).ToArray();
        TensorAssert.AllClose(x.Grad!.ToArray<double>(), expected, Tolerances.Float64Sum(4), "second derivative");
        dx.Dispose();
    }

    [Test]
    public void CustomFunctionUsesItsBackward()
    {
        using var x = Nd.Array([1f, -2f, 3f]);
        x.AttachGrad();
        NDArray y;
        var f = new ScaledSign();
        using (AG.Record()) y = f.Call(x)[0];
        y.ToArray().ShouldBe([1f, -1f, 1f]);
        y.Backward();
        x.Grad!.ToArray().ShouldBe([10f, 10f, 10f]);
        Should.Throw<InvalidOperationException>(() => f.Call(x)).Message.ShouldContain("only once");
        y.Dispose();
    }

    /// <summary>sign(x) forward with a straight-through gradient scaled by 10.</summary>
    private sealed class ScaledSign : AG.Function
    {
        protected override NDArray[] Forward(NDArray[] inputs) => [Nd.Sign(inputs[0])];

        protected override NDArray[] Backward(NDArray[] outputGradients) => [outputGradients[0] * 10];
    }
}

internal static class NdTestExtensions
{
    public static NDArray Sin2(NDArray x) => Nd.Tanh(x);
}
