using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Gluon.Optimizers;

namespace Engine.Tests.Reliability;

[NonParallelizable]
public class AllOrNothingTests
{
    [Test]
    public void ALoadThatFailsPartwayLeavesEveryParameterAsItWas()
    {
        string file = Path.Combine(Path.GetTempPath(), $"engine-partial-{Guid.NewGuid():N}.params");
        try
        {
            var saved = new Sequential();
            saved.Add(new Dense(2, inUnits: 2), new Dense(3, inUnits: 2));
            saved.Initialize(new Engine.Gluon.Initializers.Constant(5));
            saved.SaveParameters(file);
            // Same structure, but the second layer has 2 units: its weight cannot take the saved (3, 2) one.
            var target = new Sequential();
            var first = new Dense(2, inUnits: 2);
            target.Add(first, new Dense(2, inUnits: 2));
            target.Initialize(new Engine.Gluon.Initializers.Constant(1));
            var bias = first.Bias!.Data().ToArray();
            Should.Throw<InvalidDataException>(() => target.LoadParameters(file)).Message.ShouldContain("shape");
            first.Weight.Data().ToArray().ShouldBe([1f, 1, 1, 1], "the first layer was not touched");
            first.Bias!.Data().ToArray().ShouldBe(bias);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void AStepThatFailsOnAStaleGradientUpdatesNothing()
    {
        var net = new Sequential();
        var used = new Dense(2, inUnits: 2);
        var unused = new Dense(2, inUnits: 2);
        net.Add(used, unused);
        net.Initialize();
        var trainer = new Trainer(net.CollectParams(), new SGD(learningRate: 0.1));
        using var x = Nd.Ones(1, 2);
        using (Engine.Autograd.Record())
        {
            using var y = used.Call(x);
            y.Backward();
        }
        var before = used.Weight.Data().ToArray();
        Should.Throw<InvalidOperationException>(() => trainer.Step(1));
        used.Weight.Data().ToArray().ShouldBe(before, "the fresh parameter is not updated by a step that fails");
        trainer.Step(1, ignoreStaleGrad: true);
        used.Weight.Data().ToArray().ShouldNotBe(before);
    }
}
