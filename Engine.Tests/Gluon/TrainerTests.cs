using Engine.Gluon;
using Engine.Gluon.Losses;
using Engine.Gluon.NN;
using Engine.Gluon.Optimizers;

namespace Engine.Tests.Gluon;

[NonParallelizable]
public class TrainerTests
{
    [Test]
    public void StepRescalesByBatchSizeAndHonoursLrMult()
    {
        var d = new Dense(1, inUnits: 2, useBias: false);
        d.Initialize(new Engine.Gluon.Initializers.Constant(1));
        d.Weight.LrMult = 2;
        var trainer = new Trainer(d.CollectParams(), "sgd", new() { ["learning_rate"] = 0.1 });
        using var x = Nd.Array(new float[,] { { 1, 2 }, { 3, 4 } });
        using (Engine.Autograd.Record())
        {
            using var y = d.Call(x);
            y.Backward();
        }
        // dL/dw = sum over the batch of x = (4, 6); step: w -= lr * lrMult * grad / batch.
        trainer.Step(2);
        d.Weight.Data().ToArray().ShouldBe([1 - 0.1f * 2 * 4 / 2, 1 - 0.1f * 2 * 6 / 2], tolerance: 1e-6f);
    }

    [Test]
    public void StaleGradientsAreAnErrorUnlessIgnored()
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
        var e = Should.Throw<InvalidOperationException>(() => trainer.Step(1));
        e.Message.ShouldContain("has not been updated by backward since last `step`");
        e.Message.ShouldContain(unused.Prefix);
        var before = unused.Weight.Data().ToArray();
        trainer.Step(1, ignoreStaleGrad: true);
        unused.Weight.Data().ToArray().ShouldBe(before);
        Should.Throw<InvalidOperationException>(() => trainer.Step(1)).Message.ShouldContain(used.Prefix);
    }

    [Test]
    public void SmallClassifierLearns()
    {
        RandomState.Seed(1);
        var rng = new Random(2);
        int n = 256;
        var data = new float[n * 2];
        var labels = new float[n];
        for (int i = 0; i < n; i++)
        {
            float a = rng.NextSingle() * 2 - 1, b = rng.NextSingle() * 2 - 1;
            data[2 * i] = a;
            data[2 * i + 1] = b;
            labels[i] = a * b > 0 ? 1 : 0;
        }
        using var x = Nd.Array(data, new Shape(n, 2));
        using var y = Nd.Array(labels, new Shape(n));
        var net = new Sequential();
        net.Add(new Dense(16, activation: "tanh"), new Dense(2));
        net.Initialize(new Engine.Gluon.Initializers.Xavier());
        var loss = new SoftmaxCrossEntropyLoss();
        var trainer = new Trainer(net.CollectParams(), "adam", new() { ["learning_rate"] = 0.05 });
        for (int epoch = 0; epoch < 200; epoch++)
        {
            using var scope = NDArray.Scope();
            NDArray l;
            using (Engine.Autograd.Record()) l = loss.Call(net.Call(x), y);
            l.Backward();
            trainer.Step(n);
        }
        using var pred = Nd.ArgMax(net.Call(x), 1);
        double accuracy = pred.ToArray().Zip(labels, (p, t) => p == t ? 1.0 : 0).Average();
        accuracy.ShouldBeGreaterThan(0.9);
    }

    [Test]
    public void SaveAndLoadStatesResumeTraining()
    {
        string file = Path.Combine(Path.GetTempPath(), $"engine-trainer-{Guid.NewGuid():N}.states");
        try
        {
            var d = new Dense(1, inUnits: 2);
            d.Initialize();
            var trainer = new Trainer(d.CollectParams(), "sgd", new() { ["learning_rate"] = 0.1, ["momentum"] = 0.9 });
            using var x = Nd.Ones(1, 2);
            using (Engine.Autograd.Record())
            {
                using var y = d.Call(x);
                y.Backward();
            }
            trainer.Step(1);
            trainer.SaveStates(file);
            var other = new Trainer(d.CollectParams(), "sgd", new() { ["learning_rate"] = 0.1, ["momentum"] = 0.9 });
            other.LoadStates(file);
            other.Optimizer.NumUpdate.ShouldBe(trainer.Optimizer.NumUpdate);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
