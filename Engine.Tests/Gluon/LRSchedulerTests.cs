using Engine.Gluon.LRSchedulers;

namespace Engine.Tests.Gluon;

public class LRSchedulerTests
{
    [Test]
    public void FactorDecaysEveryStepUpdates()
    {
        var s = new FactorScheduler(step: 3, factor: 0.5, baseLR: 1);
        double[] expected = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125];  // numUpdate 0..10
        for (int n = 0; n < expected.Length; n++) s.GetLearningRate(n).ShouldBe(expected[n], $"numUpdate {n}");
    }

    [Test]
    public void FactorMatchesMXNetsStatefulLoopAndStopsAtTheFloor()
    {
        var s = new FactorScheduler(step: 2, factor: 0.3, stopFactorLR: 1e-3, baseLR: 0.7);
        var mxnet = new MXNetFactor(step: 2, factor: 0.3, stop: 1e-3, baseLR: 0.7);
        for (int n = 1; n <= 40; n++) s.GetLearningRate(n).ShouldBe(mxnet.Call(n), $"numUpdate {n}");
        s.GetLearningRate(40).ShouldBe(1e-3);
        // A pure function of numUpdate: going back gives the earlier rate (MXNet's object would stay decayed).
        s.GetLearningRate(3).ShouldBe(0.7 * 0.3);
        s.GetLearningRate(1_000_000).ShouldBe(1e-3);
    }

    /// <summary>MXNet 1.x's FactorScheduler.__call__, called with growing numUpdate as an optimizer does.</summary>
    private sealed class MXNetFactor(int step, double factor, double stop, double baseLR)
    {
        private int count;

        public double Call(int numUpdate)
        {
            while (numUpdate > count + step)
            {
                count += step;
                baseLR *= factor;
                if (baseLR < stop) baseLR = stop;
            }
            return baseLR;
        }
    }

    [Test]
    public void MultiFactorDecaysAfterEachListedStep()
    {
        var s = new MultiFactorScheduler([2, 5], factor: 0.1, baseLR: 1);
        s.GetLearningRate(1).ShouldBe(1);
        s.GetLearningRate(2).ShouldBe(1);
        s.GetLearningRate(3).ShouldBe(0.1);
        s.GetLearningRate(5).ShouldBe(0.1);
        s.GetLearningRate(6).ShouldBe(0.1 * 0.1);
        s.GetLearningRate(100).ShouldBe(0.1 * 0.1);
    }

    [Test]
    public void CosineWarmsUpLinearlyThenFollowsTheHalfCosine()
    {
        var s = new CosineScheduler(maxUpdate: 10, baseLR: 1, finalLR: 0.1, warmupSteps: 2, warmupBeginLR: 0.2);
        s.GetLearningRate(0).ShouldBe(0.2);
        s.GetLearningRate(1).ShouldBe(0.6, 1e-15);                // 0.2 + (1 - 0.2) * 1 / 2
        s.GetLearningRate(2).ShouldBe(1);                         // cos(0)
        s.GetLearningRate(6).ShouldBe(0.55, 1e-15);               // 0.1 + 0.9 * (1 + cos(pi / 2)) / 2
        s.GetLearningRate(8).ShouldBe(0.1 + 0.9 * (1 + Math.Cos(Math.PI * 0.75)) / 2, 1e-15);
        s.GetLearningRate(10).ShouldBe(0.1, 1e-15);
        s.GetLearningRate(11).ShouldBe(0.1);
    }

    [Test]
    public void PolyDecaysWithItsPower()
    {
        var s = new PolyScheduler(maxUpdate: 8, baseLR: 2, power: 2, finalLR: 0, warmupSteps: 4,
            warmupMode: WarmupMode.Constant, warmupBeginLR: 0.5);
        s.GetLearningRate(3).ShouldBe(0.5);                       // constant warmup
        s.GetLearningRate(4).ShouldBe(2);
        s.GetLearningRate(6).ShouldBe(2 * 0.25);                  // (1 - 2 / 4)^2
        s.GetLearningRate(8).ShouldBe(0);
        s.GetLearningRate(9).ShouldBe(0);
    }

    [Test]
    public void WarmupRisesToTheCurrentBaseRate()
    {
        var s = new FactorScheduler(step: 100, baseLR: 1, warmupSteps: 4);
        s.GetLearningRate(2).ShouldBe(0.5);
        s.BaseLR = 2;
        s.GetLearningRate(2).ShouldBe(1);
        s.GetLearningRate(4).ShouldBe(2);
    }

    [Test]
    public void InvalidSchedulesAreExplained()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new FactorScheduler(step: 0)).Message.ShouldContain("step");
        Should.Throw<ArgumentOutOfRangeException>(() => new FactorScheduler(step: 1, factor: 1.5)).Message
            .ShouldContain("[0, 1]");
        Should.Throw<ArgumentException>(() => new MultiFactorScheduler([5, 5])).Message
            .ShouldContain("increase strictly");
        Should.Throw<ArgumentException>(() => new MultiFactorScheduler([])).Message.ShouldContain("empty");
        Should.Throw<ArgumentException>(() => new CosineScheduler(maxUpdate: 5, warmupSteps: 5)).Message
            .ShouldContain("greater than warmupSteps");
        Should.Throw<ArgumentException>(() => new CosineScheduler(10, baseLR: 0.1, warmupSteps: 2,
            warmupBeginLR: 0.5)).Message.ShouldContain("below WarmupBeginLR");
        Should.Throw<ArgumentOutOfRangeException>(() => new CosineScheduler(10).GetLearningRate(-1)).Message
            .ShouldContain("numUpdate");
        Should.Throw<ArgumentOutOfRangeException>(() => new PolyScheduler(10, baseLR: double.NaN));
    }
}
