using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.Graphs.Passes;
using Engine.Kernels;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The compiled executor: launch lists over planned buffers, the arena kept by StaticAlloc, shapes bound by
/// StaticShape, and the read check that catches a plan which overwrites a value before its last reader (on for
/// every test: <see cref="ExecutorChecks"/>).
/// </summary>
[NonParallelizable]
public class GraphExecutionTests
{
    private static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    /// <summary>exp(x) is read by the add at the end, so nothing may overwrite it before then.</summary>
    private static Graph Chain()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("data", new Shape(1000), DType.Float32, Device.Cpu);
        var a = Nd.Exp(x);
        var b = Nd.Relu(a);
        var c = Nd.Tanh(b) + a;
        return tracer.Finish([Nd.Sigmoid(c)]);
    }

    private static float[] ChainEager(NDArray x)
    {
        using var scope = NDArray.Scope();
        var a = Nd.Exp(x);
        return Nd.Sigmoid(Nd.Tanh(Nd.Relu(a)) + a).ToArray();
    }

    [Test]
    public void ACompiledChainRunsInPlaceAndAgreesWithEager()
    {
        var graph = Chain();
        var compiled = CompiledGraph.Compile(graph, Device.Cpu);
        compiled.LaunchCount.ShouldBe(5);
        compiled.ArenaBytes.ShouldBe(2 * 4032);   // two planned buffers of 4000 bytes, 64-byte aligned
        compiled.Launches.Count(l => l.Requests.Contains(WriteRequest.InPlace)).ShouldBe(2);
        using var x = Input(1, 1000);
        var y = compiled.Run([x], _ => throw new InvalidOperationException("no parameters"));
        TensorAssert.AllClose(y[0].ToArray(), ChainEager(x), Tolerances.Exact, "chain");
        y[0].Dispose();
    }

    [Test]
    public void AWrongPlanIsCaughtByTheReadCheck()
    {
        var graph = Chain();
        var plan = MemoryPlan.For(graph);
        var exp = graph.Operators.Single(n => n.Op!.Name == "exp");
        var relu = graph.Operators.Single(n => n.Op!.Name == "relu");
        // relu writes over exp's buffer although the add still reads exp: the read check must see it.
        plan.Override(relu[0], plan.StorageOf(exp[0]));
        Should.Throw<InvalidOperationException>(() => plan.Verify()).Message.ShouldContain("overwritten");
        var compiled = CompiledGraph.Compile(graph, Device.Cpu, plan: plan);
        using var x = Input(2, 1000);
        var error = Should.Throw<InvalidOperationException>(() =>
            compiled.Run([x], _ => throw new InvalidOperationException("no parameters")));
        error.Message.ShouldContain("reads exp");
        error.Message.ShouldContain("holds relu");
    }

    [Test]
    public void StaticAllocKeepsOneArenaAndOutputsDoNotAliasIt()
    {
        var net = new HybridSequential();
        net.Add(new Dense(16, activation: "relu"), new Dense(8, activation: "tanh"), new Dense(4));
        net.Initialize();
        using var x1 = Input(3, 5, 10);
        using var x2 = Input(4, 5, 10);
        var expected1 = net.Call(x1).ToArray();
        var expected2 = net.Call(x2).ToArray();
        net.Hybridize(true, new HybridizeOptions { StaticAlloc = true, StaticShape = true });
        using var first = net.Call(x1);
        var compiled = net.LastCompiledInference!;
        var arena = compiled.StaticArena;
        arena.ShouldNotBeNull();
        using var second = net.Call(x2);
        compiled.StaticArena.ShouldBeSameAs(arena);
        // The first output is its own array: the second call, through the same arena, did not touch it.
        TensorAssert.AllClose(first.ToArray(), expected1, Tolerances.Exact, "first call");
        TensorAssert.AllClose(second.ToArray(), expected2, Tolerances.Exact, "second call");
    }

    [Test]
    public void StaticShapeNamesTheBlockTheBoundShapeTheGivenOneAndTheFix()
    {
        var net = new HybridSequential();
        net.Add(new Dense(4));
        net.Initialize();
        net.Hybridize(true, new HybridizeOptions { StaticAlloc = true, StaticShape = true });
        using var x = Input(1, 3, 6);
        net.Call(x).Dispose();
        using var y = Input(1, 5, 6);
        var message = Should.Throw<InvalidOperationException>(() => net.Call(y)).Message;
        message.ShouldContain(net.Name);
        message.ShouldContain("(3, 6)");
        message.ShouldContain("(5, 6)");
        message.ShouldContain("StaticShape = false");
    }

    [Test]
    public void AReshapeOfATransposeGetsADenseCopyAndAgrees()
    {
        var net = new HybridSequential();
        net.Add(new HybridLambda(x => Nd.Exp(x.Transpose(1, 0).Reshape(-1)) * 2));
        using var x = Input(5, 3, 4);
        using var expected = net.Call(x);
        net.Hybridize();
        using var actual = net.Call(x);
        // The copy makes the transposed view dense; exp and the multiply by the scalar become one fused program,
        // the scalar an immediate of the program rather than a full launched per call.
        net.LastCompiledInference!.Launches.Select(l => l.Kernel.Op.Name).ShouldBe(["copy", "_fused_elementwise"]);
        TensorAssert.AllClose(actual.ToArray(), expected.ToArray(), Tolerances.Exact, "transpose then reshape");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void RetainedBackwardsThroughAHybridizedCallAgreeWithImperative(bool staticAlloc)
    {
        // Each tanh's backward reads its forward output, and nothing reads it later: the plan gives its storage to
        // later backward values, so a second backward finds it overwritten unless the first one kept a copy.
        static HybridSequential Make()
        {
            var net = new HybridSequential();
            net.Add(new HybridLambda(x => Nd.Tanh(Nd.Tanh(Nd.Tanh(x) * 2 + x) * 3 - x) * 4));
            return net;
        }
        var imperative = Make();
        var hybrid = Make();
        // Unfused, the backward has more values to place than the forward leaves free.
        hybrid.Hybridize(true, new HybridizeOptions { StaticAlloc = staticAlloc, Fusion = false });
        bool checks = CompiledGraph.CheckReads;
        CompiledGraph.CheckReads = true;
        try
        {
            var results = new List<float[]>();
            foreach (var net in new[] { imperative, hybrid })
            {
                using var x = Input(6, 4, 5);
                x.AttachGrad(GradReq.Add);
                NDArray y, loss;
                using (Engine.Autograd.Record())
                {
                    y = net.Call(x);
                    loss = Nd.Sum(y * y);
                }
                foreach (bool retain in new[] { true, true, false })
                {
                    loss.Backward(retainGraph: retain);
                    results.Add(x.Grad!.ToArray());
                }
                Should.Throw<InvalidOperationException>(() => loss.Backward()).Message.ShouldContain("retainGraph");
                y.Dispose();
                loss.Dispose();
            }
            for (int k = 0; k < 3; k++)
                TensorAssert.AllClose(results[3 + k], results[k], new Tolerance(1e-5, 1e-6), $"after backward {k}");
        }
        finally
        {
            CompiledGraph.CheckReads = checks;
        }
    }

    [Test]
    public void ResNet18PlansExecuteWithinAQuarterAndAHalfOfTheUnplannedBytes()
    {
        var net = new HybridSequential();
        net.Add(Engine.Gluon.ModelZoo.ResNet18V1(classes: 10, thumbnail: true));
        net.Initialize();
        net.Hybridize();
        using var x = Input(7, 2, 3, 32, 32);
        net.Call(x).Dispose();
        var inference = net.LastCompiledInference!.Plan;
        inference.Verify();
        inference.Ratio.ShouldBeLessThan(0.25);
        NDArray y;
        using (Engine.Autograd.Record()) y = net.Call(x);
        y.Backward();
        y.Dispose();
        var training = new TrainingGraph(net.CachedGraph!).Plan;
        training.Verify();
        TestContext.Out.WriteLine($"inference {inference.Ratio:P1}, training {training.Ratio:P1}");
        training.Ratio.ShouldBeLessThan(0.5);
    }

    [Test]
    public void ExplainPrintsTheKernelsPerCallAndThePlans()
    {
        RandomState.Seed(1);
        var net = new HybridSequential("mlp_");
        using (net.NameScope()) net.Add(new Dense(16, activation: "relu"), new Dense(10));
        net.Initialize();
        net.Hybridize(true, new HybridizeOptions { StaticAlloc = true, StaticShape = true });
        using var x = Input(8, 4, 20);
        net.Call(x).Dispose();
        // A training step differentiates toward the parameters only (the data is a batch, not a variable).
        net.Explain().ShouldBe(
            "mlp: 2 kernels per inference call (3 unfused), 9 per training step (2 forward, 7 backward; 10 " +
            "unfused); arena allocated once (StaticAlloc), shapes bound once (StaticShape)\n" +
            "%data = input : float32(4, 20)\n" +
            "%mlp_dense0_weight = parameter : float32(16, 20)\n" +
            "%mlp_dense0_bias = parameter : float32(16,)\n" +
            "%mlp_dense0_fwd = fully_connected[flatten=True, fused_activation=relu, no_bias=False, num_hidden=16](" +
            "%data, %mlp_dense0_weight, %mlp_dense0_bias) : float32(4, 16)\n" +
            "%mlp_dense1_weight = parameter : float32(10, 16)\n" +
            "%mlp_dense1_bias = parameter : float32(10,)\n" +
            "%mlp_dense1_fwd = fully_connected[flatten=True, no_bias=False, num_hidden=10](%mlp_dense0_fwd, " +
            "%mlp_dense1_weight, %mlp_dense1_bias) : float32(4, 10)\n" +
            "return %mlp_dense1_fwd\n" +
            "inference: 0 fused groups, 1 epilogues, 0 batch norms folded\n" +
            "  mlp_dense0_fwd = fully_connected + relu\n" +
            "training: 0 fused groups, 1 epilogues, 0 batch norms folded\n" +
            "  mlp_dense0_fwd = fully_connected + relu\n" +
            "inference memory plan: peak 256 bytes planned against 416 unplanned (62 %), 1 buffers, 0 in place\n" +
            "training memory plan: peak 768 bytes planned against 2,968 unplanned (26 %), 3 buffers, 0 in place");
    }

    [Test]
    public void AnInputDisposedBetweenForwardAndBackwardStillGivesTheGradients()
    {
        // The imperative tape keeps what its backward reads; a recorded hybridized call must too.
        NDArray[] Gradients(bool hybridize)
        {
            RandomState.Seed(3);
            var net = new HybridSequential();
            net.Add(new Dense(5, activation: "tanh"), new Dense(2));
            net.Initialize();
            if (hybridize) net.Hybridize();
            var x = Input(4, 3, 7);
            NDArray y;
            using (Engine.Autograd.Record()) y = net.Call(x);
            x.Dispose();
            y.Backward();
            y.Dispose();
            return net.CollectParams().Values.Select(p => p.Grad().Copy()).ToArray();
        }
        var expected = Gradients(false);
        var actual = Gradients(true);
        for (int i = 0; i < expected.Length; i++)
            TensorAssert.AllClose(actual[i].ToArray(), expected[i].ToArray(), Tolerances.Float32Transcendental,
                $"gradient {i}");
    }

    [Test]
    public void LaunchTimesTakenUnderTheProfilerListEveryLaunchOfTheStep()
    {
        RandomState.Seed(2);
        var net = new HybridSequential("mlp_");
        using (net.NameScope()) net.Add(new Dense(16, activation: "relu"), new Dense(10));
        net.Initialize();
        net.Hybridize();
        using var x = Input(9, 4, 20);
        void Step()
        {
            using var scope = NDArray.Scope();
            NDArray y;
            using (Engine.Autograd.Record()) y = net.Call(x);
            y.Backward();
        }
        Step();
        net.ResetLaunchTimes();
        string untimed = net.Explain(listLaunches: true);
        untimed.ShouldContain("training step launches: 9 kernels per call");
        untimed.ShouldNotContain(" us ");
        using (Engine.Diagnostics.OpProfiler.Start()) for (int i = 0; i < 3; i++) Step();
        string text = net.Explain(listLaunches: true);
        var step = text[text.IndexOf("training step launches:", StringComparison.Ordinal)..].Split('\n');
        // One timed line per launch (2 forward, then the backward marker, 7 backward), then the sum.
        step.Length.ShouldBe(1 + 2 + 1 + 7 + 1);
        step[3].Trim().ShouldBe("-- backward --");
        foreach (var line in step.Skip(1).Where(l => !l.Contains("backward --")))
        {
            var first = line.Trim().Split(' ')[0];
            double.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out double us)
                .ShouldBeTrue(line);
            us.ShouldBeGreaterThanOrEqualTo(0);
            line.ShouldContain(" us ");
        }
        step[^1].ShouldContain("us in kernels per call (");
        step[1].ShouldContain("mlp_dense0_fwd: fully_connected(data, mlp_dense0_weight, mlp_dense0_bias)");
    }

    [Test]
    public void LaunchFlopsCountTwoPerMultiplyAddOfEachProduct()
    {
        RandomState.Seed(4);
        var net = new HybridSequential();
        net.Add(new Conv2D(4, 3), new Dense(5));
        net.Initialize();
        net.Hybridize(true, new HybridizeOptions { Fusion = false });
        using var x = Input(10, 2, 3, 6, 6);
        net.Call(x).Dispose();
        // The data's gradient too, so every product of the convolution appears.
        var step = new TrainingGraph(net.CachedGraph!, [true]).CompileFor(Device.Cpu);
        var flops = step.Launches.Select(l => (l.Node.Op!.Name, LaunchFlops.Of(l.Node)))
            .Where(f => f.Item2 > 0).OrderBy(f => f.Name).ThenBy(f => f.Item2).ToList();
        // Convolution (2, 3, 6, 6) * (4, 3, 3, 3) -> (2, 4, 4, 4): 2 N K OH OW C R S = 2*2*4*16*27 in each pass.
        // Dense 64 -> 5 on 2 rows: 2*2*64*5 forward, for dx (dy W) and for dW (dy^T x); the bias gradient is
        // ones(1, 2) dy: 2*1*2*5.
        flops.ShouldBe(new (string, double)[]
        {
            ("_backward_convolution_data", 6912), ("_backward_convolution_weight", 6912), ("convolution", 6912),
            ("dot", 20), ("dot", 1280), ("dot", 1280), ("fully_connected", 1280),
        });
    }
}
