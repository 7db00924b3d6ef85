using Engine.Gluon.LRSchedulers;
using Engine.Gluon.Optimizers;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

public class OptimizerTests
{
    // Several float32 update steps against the double reference: a few roundings per step, no long sums.
    private static readonly Tolerance Float32Steps = Tolerances.Float32OptimizerSteps;

    // Every case: the engine optimizer and the naive reference with the same settings.
    private static readonly Dictionary<string, Func<(Optimizer, NaiveOptimizer)>> Cases = new()
    {
        ["sgd"] = () => (new SGD(0.1, wd: 0.01) { RescaleGrad = 0.5 },
            new NaiveOptimizer { Kind = "sgd", Lr = 0.1, Wd = 0.01, Rescale = 0.5 }),
        ["sgd_momentum_clip"] = () => (new SGD(0.1, momentum: 0.9, wd: 0.01) { RescaleGrad = 0.5, ClipGradient = 1 },
            new NaiveOptimizer { Kind = "sgd", Lr = 0.1, Momentum = 0.9, Wd = 0.01, Rescale = 0.5, Clip = 1 }),
        ["sgd_momentum_factor_schedule"] = () => (
            new SGD(0.1, momentum: 0.9) { LRScheduler = new FactorScheduler(step: 2, factor: 0.5) },
            new NaiveOptimizer
            {
                Kind = "sgd", Momentum = 0.9, Schedule = n => 0.1 * Math.Pow(0.5, Math.Max(0, (n - 1) / 2)),
            }),
        ["nag"] = () => (new NAG(0.1, momentum: 0.9, wd: 0.01) { RescaleGrad = 0.5, ClipGradient = 1 },
            new NaiveOptimizer { Kind = "nag", Lr = 0.1, Momentum = 0.9, Wd = 0.01, Rescale = 0.5, Clip = 1 }),
        ["nag_no_momentum"] = () => (new NAG(0.1, wd: 0.01) { ClipGradient = 1 },
            new NaiveOptimizer { Kind = "nag", Lr = 0.1, Wd = 0.01, Clip = 1 }),
        ["adam"] = () => (new Adam(0.01, wd: 0.01) { RescaleGrad = 0.5, ClipGradient = 1 },
            new NaiveOptimizer { Kind = "adam", Lr = 0.01, Wd = 0.01, Rescale = 0.5, Clip = 1 }),
        ["adam_cosine_schedule"] = () => (
            new Adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6) { LRScheduler = new CosineScheduler(6, baseLR: 0.05) },
            new NaiveOptimizer
            {
                Kind = "adam", Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-6,
                Schedule = n => 0.05 * (1 + Math.Cos(Math.PI * n / 6)) / 2,
            }),
        ["adamw"] = () => (new AdamW(0.01, wd: 0.1) { RescaleGrad = 0.5, ClipGradient = 1 },
            new NaiveOptimizer { Kind = "adamw", Lr = 0.01, Wd = 0.1, Rescale = 0.5, Clip = 1, Epsilon = 1e-6 }),
        ["adamw_no_bias_correction"] = () => (new AdamW(0.01, wd: 0.1, correctBias: false),
            new NaiveOptimizer { Kind = "adamw", Lr = 0.01, Wd = 0.1, Epsilon = 1e-6, CorrectBias = false }),
        ["rmsprop"] = () => (new RMSProp(0.01, wd: 0.01, clipWeights: 1.2) { RescaleGrad = 0.5, ClipGradient = 1 },
            new NaiveOptimizer
            {
                Kind = "rmsprop", Lr = 0.01, Wd = 0.01, ClipWeights = 1.2, Rescale = 0.5, Clip = 1,
            }),
        ["rmsprop_centered"] = () => (new RMSProp(0.01, gamma1: 0.8, gamma2: 0.7, centered: true, wd: 0.01),
            new NaiveOptimizer
            {
                Kind = "rmsprop", Lr = 0.01, Gamma1 = 0.8, Gamma2 = 0.7, Centered = true, Wd = 0.01,
            }),
    };

    private static IEnumerable<string> CaseNames() => Cases.Keys;

    /// <summary>
    /// Two parameters with different shapes, multipliers and update counts (the second is updated every other step,
    /// so its bias correction and the schedule's num_update differ) against the reference over six steps.
    /// </summary>
    [Test, Combinatorial]
    public void MatchesTheReference([ValueSource(nameof(CaseNames))] string name,
        [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        var (optimizer, reference) = Cases[name]();
        var rng = new Random(name.Length * 31 + (int)dtype);
        (Shape Shape, double LrMult, double WdMult)[] parameters =
            [(new Shape(3, 4), 1.0, 1.0), (new Shape(5), 0.5, 2.0)];
        var expected = parameters.Select(p => Values(rng, p.Shape.Size, dtype, 1.5)).ToArray();
        var weights = parameters.Select((p, i) => Nd.Array(expected[i], p.Shape).AsType(dtype)).ToArray();
        for (int step = 0; step < 6; step++)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                if (i == 1 && step % 2 == 1) continue;
                double[] grad = Values(rng, parameters[i].Shape.Size, dtype, 3);  // beyond the clip of 1
                using var g = Nd.Array(grad, parameters[i].Shape).AsType(dtype);
                optimizer.Update(i, weights[i], g, parameters[i].LrMult, parameters[i].WdMult);
                reference.Update(i, expected[i], grad, parameters[i].LrMult, parameters[i].WdMult);
            }
            var tol = dtype == DType.Float64 ? Tolerances.Float64 : Float32Steps;
            for (int i = 0; i < parameters.Length; i++)
                TensorAssert.AllClose(weights[i].ToArray<double>(), expected[i], tol, $"{name} step {step} index {i}");
        }
        optimizer.NumUpdate.ShouldBe(6);
        optimizer.GetUpdateCount(1).ShouldBe(3);
    }

    [Test]
    public void SgdMomentumStepsMatchHandComputedValues()
    {
        // g' = clip(0.5 * g, 1) = [1, -0.25]; mom = 0.9 mom - 0.1 * 0.1 * w - 0.1 * g'; w += mom.
        var sgd = new SGD(0.1, momentum: 0.9, wd: 0.1) { RescaleGrad = 0.5, ClipGradient = 1 };
        using var w = Nd.Array([1.0, -2.0], new Shape(2));
        using var g = Nd.Array([4.0, -0.5], new Shape(2));
        sgd.Update(0, w, g);
        TensorAssert.AllClose(w.ToArray<double>(), [0.89, -1.955], Tolerances.Float64, "step 1");
        sgd.GetState(0)![0].ToArray<double>().ShouldBe([-0.11, 0.045], 1e-12);
        sgd.Update(0, w, g);
        TensorAssert.AllClose(w.ToArray<double>(), [0.6821, -1.86995], Tolerances.Float64, "step 2");
    }

    [Test]
    public void WeightDecayIsClippedWithTheGradientInAdamButNotInSgd()
    {
        // A zero gradient, a large weight and wd = 1: Adam clips wd * w = 10 to 1 and then moves by about lr;
        // SGD decays the weight unclipped: (1 - lr * wd) * w.
        using var w1 = Nd.Array([10.0], new Shape(1));
        using var w2 = Nd.Array([10.0], new Shape(1));
        using var zero = Nd.Array([0.0], new Shape(1));
        new Adam(0.01, wd: 1) { ClipGradient = 1 }.Update(0, w1, zero);
        new SGD(0.01, wd: 1) { ClipGradient = 1 }.Update(0, w2, zero);
        w1.ToScalar<double>().ShouldBe(9.99, 1e-6);
        w2.ToScalar<double>().ShouldBe(9.9, 1e-12);
    }

    [Test]
    public void StateIsCreatedOnTheFirstUpdateOfEachIndex()
    {
        var adam = new Adam();
        adam.GetState(0).ShouldBeNull();
        adam.StateNames.ShouldBe(["mean", "var"]);
        using var w = Nd.Ones(new Shape(2, 3), DType.Float64);
        using var g = Nd.Ones(new Shape(2, 3), DType.Float64);
        adam.Update(0, w, g);
        var state = adam.GetState(0)!;
        state.Count.ShouldBe(2);
        foreach (var s in state)
        {
            s.Shape.ShouldBe(new Shape(2, 3));
            s.DType.ShouldBe(DType.Float64);
        }
        state[0].ToArray<double>().ShouldAllBe(v => Math.Abs(v - 0.1) < 1e-12);  // (1 - beta1) * g from zero
        adam.GetState(1).ShouldBeNull();
        adam.Indices.ShouldBe([0]);

        var sgd = new SGD(0.1);
        sgd.Update(5, w, g);
        sgd.GetState(5)!.Count.ShouldBe(0);  // plain SGD keeps no state
        new RMSProp(centered: true).StateNames.ShouldBe(["n", "g", "delta"]);
    }

    [Test]
    public void StateOutlivesTheCallersScope()
    {
        var sgd = new SGD(0.1, momentum: 0.9);
        using var w = Nd.Ones(3);
        using (NDArray.Scope())
        {
            using var g = Nd.Ones(3);
            sgd.Update(0, w, g);
        }
        sgd.GetState(0)![0].IsDisposed.ShouldBeFalse();
        using var g2 = Nd.Ones(3);
        sgd.Update(0, w, g2);  // mom = 0.9 * -0.1 - 0.1
        sgd.GetState(0)![0].ToArray().ShouldAllBe(v => Math.Abs(v + 0.19f) < 1e-6f);
    }

    [Test]
    public void UpdatesTheWeightInPlaceAndSeenThroughViews()
    {
        var sgd = new SGD(0.5);
        using var w = Nd.Array([1f, 2, 3, 4], new Shape(2, 2));
        using var row = w[1];
        using var g = Nd.Ones(2, 2);
        sgd.Update(0, w, g);
        w.ToArray().ShouldBe([0.5f, 1.5f, 2.5f, 3.5f]);
        row.ToArray().ShouldBe([2.5f, 3.5f]);
    }

    [Test]
    public void UpdateInsideARecordingScopeIsNotRecorded()
    {
        var sgd = new SGD(0.1);
        using var w = Nd.Array([1f, 2f], new Shape(2));
        w.AttachGrad();
        using (Engine.Autograd.Record())
        {
            using var y = w * 3;
            y.Backward();
            sgd.Update(0, w, w.Grad!);
            Engine.Autograd.IsRecording.ShouldBeTrue();
        }
        w.ToArray().ShouldBe([0.7f, 1.7f]);
    }

    [Test]
    public void CountsUpdatesPerIndexAndFromBeginNumUpdate()
    {
        var adam = new Adam(0.01) { BeginNumUpdate = 10 };
        adam.NumUpdate.ShouldBe(10);
        using var w = Nd.Array([1.0], new Shape(1));
        using var g = Nd.Array([0.5], new Shape(1));
        adam.Update(3, w, g);
        adam.GetUpdateCount(3).ShouldBe(11);
        adam.NumUpdate.ShouldBe(11);
        // Bias correction at t = 11: the step is lr * sqrt(1 - b2^11) / (1 - b1^11) * m / (sqrt(v) + eps).
        double m = 0.1 * 0.5, v = 0.001 * 0.25;
        double expected = 1 - 0.01 * Math.Sqrt(1 - Math.Pow(0.999, 11)) / (1 - Math.Pow(0.9, 11)) * m /
            (Math.Sqrt(v) + 1e-8);
        w.ToScalar<double>().ShouldBe(expected, 1e-12);
        Should.Throw<InvalidOperationException>(() => adam.BeginNumUpdate = 0).Message.ShouldContain("before");
    }

    [Test]
    public void LearningRateFollowsTheSchedulerAtNumUpdate()
    {
        var scheduler = new MultiFactorScheduler([1, 2], factor: 0.1, baseLR: 1);
        var sgd = new SGD { LRScheduler = scheduler };
        scheduler.BaseLR.ShouldBe(1);  // no explicit rate: the scheduler keeps its own
        sgd.LearningRate.ShouldBe(1);
        using var w = Nd.Array([0.0], new Shape(1));
        using var g = Nd.Array([1.0], new Shape(1));
        sgd.Update(0, w, g);  // num_update 1: lr 1
        sgd.Update(0, w, g);  // num_update 2: lr 0.1
        sgd.Update(0, w, g);  // num_update 3: lr 0.01
        w.ToScalar<double>().ShouldBe(-1.11, 1e-12);
        sgd.LearningRate.ShouldBe(0.01, 1e-15);
        var e = Should.Throw<InvalidOperationException>(() => sgd.LearningRate = 0.5);
        e.Message.ShouldContain("MultiFactorScheduler");
        e.Message.ShouldContain("BaseLR");
        sgd.LRScheduler = null;
        sgd.LearningRate = 0.5;
        sgd.LearningRate.ShouldBe(0.5);
    }

    [Test]
    public void AnExplicitLearningRateBecomesTheSchedulersBaseRate()
    {
        var scheduler = new FactorScheduler(step: 10, baseLR: 1);
        _ = new Adam(0.02) { LRScheduler = scheduler };
        scheduler.BaseLR.ShouldBe(0.02);
    }

    [Test]
    public void UpdateRejectsMismatchedArgumentsNamingTheOptimizerAndIndex()
    {
        var sgd = new SGD(0.1, momentum: 0.9);
        using var w = Nd.Zeros(2, 3);
        using var g = Nd.Zeros(3, 2);
        var e = Should.Throw<ArgumentException>(() => sgd.Update(4, w, g));
        e.Message.ShouldContain("SGD.Update(index 4)");
        e.Message.ShouldContain("(3, 2)");
        e.Message.ShouldContain("(2, 3)");

        using var ints = Nd.Zeros(new Shape(2), DType.Int32);
        Should.Throw<ArgumentException>(() => sgd.Update(0, ints, ints)).Message.ShouldContain("int32");
        using var g2 = Nd.Zeros(2, 3);
        Should.Throw<ArgumentOutOfRangeException>(() => sgd.Update(0, w, g2, lrMult: -1)).Message
            .ShouldContain("lrMult");

        sgd.Update(0, w, g2);
        using var other = Nd.Zeros(4);
        var reuse = Should.Throw<InvalidOperationException>(() => sgd.Update(0, other, other));
        reuse.Message.ShouldContain("index 0");
        reuse.Message.ShouldContain("(2, 3)");
        reuse.Message.ShouldContain("(4,)");
    }

    [Test]
    public void HyperparametersAreChecked()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new Adam(beta1: 1)).Message.ShouldContain("beta1");
        Should.Throw<ArgumentOutOfRangeException>(() => new SGD(-0.1)).Message.ShouldContain("learning rate");
        Should.Throw<ArgumentOutOfRangeException>(() => new RMSProp(clipWeights: 0)).Message
            .ShouldContain("clipWeights");
        var sgd = new SGD();
        Should.Throw<ArgumentOutOfRangeException>(() => sgd.ClipGradient = 0).Message.ShouldContain("null");
        Should.Throw<ArgumentOutOfRangeException>(() => sgd.WeightDecay = -1).Message.ShouldContain("WeightDecay");
        Should.Throw<ArgumentOutOfRangeException>(() => sgd.RescaleGrad = double.NaN);
        Should.Throw<ArgumentOutOfRangeException>(() => sgd.LearningRate = double.PositiveInfinity);
    }

    [Test]
    public void CreateBuildsOptimizersFromMXNetOptionNames()
    {
        var scheduler = new FactorScheduler(step: 100);
        var sgd = Optimizer.Create("SGD", new()
        {
            ["learning_rate"] = 0.1, ["momentum"] = 0.9f, ["wd"] = 1e-4, ["clip_gradient"] = 5,
            ["rescale_grad"] = 0.5, ["lr_scheduler"] = scheduler, ["begin_num_update"] = 7,
        }).ShouldBeOfType<SGD>();
        sgd.Momentum.ShouldBe(0.9, 1e-7);
        sgd.WeightDecay.ShouldBe(1e-4);
        sgd.ClipGradient.ShouldBe(5);
        sgd.RescaleGrad.ShouldBe(0.5);
        sgd.NumUpdate.ShouldBe(7);
        sgd.LRScheduler.ShouldBeSameAs(scheduler);
        scheduler.BaseLR.ShouldBe(0.1);

        var adam = Optimizer.Create("adam").ShouldBeOfType<Adam>();
        (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon).ShouldBe((0.001, 0.9, 0.999, 1e-8));
        Optimizer.Create("adamw").ShouldBeOfType<AdamW>().Epsilon.ShouldBe(1e-6);
        Optimizer.Create("nag", new() { ["learning_rate"] = 1 }).LearningRate.ShouldBe(1);
        var rms = Optimizer.Create("rmsprop", new() { ["centered"] = true, ["clip_weights"] = 2.0 })
            .ShouldBeOfType<RMSProp>();
        (rms.Centered, rms.ClipWeights, rms.Gamma1, rms.LearningRate).ShouldBe((true, 2.0, 0.9, 0.001));
        Optimizer.Create("sgd", new() { ["lazy_update"] = false }).ShouldBeOfType<SGD>();
        Optimizer.Names.ShouldBe(["sgd", "nag", "adam", "adamw", "rmsprop"], ignoreOrder: true);
    }

    [Test]
    public void CreateExplainsUnknownNamesOptionsAndValues()
    {
        var name = Should.Throw<ArgumentException>(() => Optimizer.Create("adagrad"));
        name.Message.ShouldContain("unknown optimizer 'adagrad'");
        name.Message.ShouldContain("sgd, nag, adam, adamw, rmsprop");

        var option = Should.Throw<ArgumentException>(() => Optimizer.Create("sgd", new() { ["momentun"] = 0.9 }));
        option.Message.ShouldContain("unknown option 'momentun'");
        option.Message.ShouldContain("Did you mean 'momentum'?");
        option.Message.ShouldContain("learning_rate");

        Should.Throw<ArgumentException>(() => Optimizer.Create("nag", new() { ["beta1"] = 0.9 })).Message
            .ShouldContain("unknown option 'beta1'");
        var value = Should.Throw<ArgumentException>(() => Optimizer.Create("adam", new() { ["beta1"] = "0.9" }));
        value.Message.ShouldContain("option 'beta1' must be a number, got String 0.9");
        Should.Throw<ArgumentException>(() => Optimizer.Create("rmsprop", new() { ["centered"] = 1 })).Message
            .ShouldContain("true or false");
        Should.Throw<NotSupportedException>(() => Optimizer.Create("sgd", new() { ["multi_precision"] = true }));
    }

    private static double[] Values(Random rng, long count, DType dtype, double scale)
    {
        var v = TestData.UniformDouble(rng, count, -scale, scale);
        if (dtype == DType.Float32)
            for (int i = 0; i < v.Length; i++) v[i] = (float)v[i];  // what the float32 array holds
        return v;
    }
}
