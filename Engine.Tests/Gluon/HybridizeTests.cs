using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// Hybridized blocks trace Forward once into a graph and run the cached graph afterwards; outputs and every
/// parameter gradient agree with the imperative run of the same block.
/// </summary>
public class HybridizeTests
{
    private static HybridSequential Mlp()
    {
        var net = new HybridSequential();
        net.Add(new Dense(16, activation: "relu"), new Dense(10));
        return net;
    }

    private static HybridSequential Convs()
    {
        var net = new HybridSequential();
        net.Add(new Conv2D(4, 3, padding: 1), new BatchNorm(), new Activation("relu"), new MaxPool2D(2),
            new Conv2D(6, 3, useBias: false), new Activation("tanh"), new AvgPool2D(2), new Flatten(),
            new Dropout(0.3), new Dense(5));
        return net;
    }

    private static readonly HashSet<NDArray> integerInputs = new(ReferenceEqualityComparer.Instance);

    private static NDArray Indices(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var values = Enumerable.Range(0, (int)new Shape(shape).Size).Select(_ => (float)rng.Next(10)).ToArray();
        return Track(Nd.Array(values,
            new Shape(shape)));
    }

    private static NDArray Track(NDArray indices)
    {
        integerInputs.Add(indices);
        return indices;
    }

    private static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    /// <summary>
    /// Runs a forward and backward pass and returns the output and every gradient, by parameter name.
    /// </summary>
    private static (float[] Output, Dictionary<string, float[]> Grads) Step(Block net, NDArray x, bool train)
    {
        if (x.DType == DType.Float32 && !integerInputs.Contains(x)) x.AttachGrad();
        NDArray y, loss;
        using (Engine.Autograd.Record(train))
        {
            y = net.Call(x);
            loss = Nd.Sum(y * y);
        }
        var output = y.ToArray();
        loss.Backward();
        loss.Dispose();
        y.Dispose();
        var grads = net.CollectParams().Values.Where(p => p.GradReq != GradReq.Null)
            .ToDictionary(p => p.Name, p => p.Grad().ToArray());
        if (x.Grad is { } dx) grads["input"] = dx.ToArray();
        return (output, grads);
    }

    private static void CheckAgree(Func<HybridSequential> make, int[] shape, HybridizeOptions? options = null,
        bool integerInput = false)
    {
        RandomState.Seed(1);
        var imperative = make();
        imperative.Initialize();
        var hybrid = make();
        hybrid.Initialize();
        using var x0 = integerInput ? Indices(3, shape) : Input(3, shape);
        // Deferred shapes resolve on the first call; then both nets share the same values.
        using (Engine.Autograd.Pause()) imperative.Call(x0).Dispose();
        using (Engine.Autograd.Pause()) hybrid.Call(x0).Dispose();
        var source = imperative.CollectParams().Values.ToList();
        var target = hybrid.CollectParams().Values.ToList();
        for (int i = 0; i < source.Count; i++) target[i].SetData(source[i].Data());
        hybrid.Hybridize(true, options);
        bool fixedShape = options?.StaticShape == true;
        var calls = fixedShape ? new[] { (shape[0], true), (shape[0], false), (shape[0], true) }
            : new[] { (shape[0], true), (shape[0], false), (shape[0] + 3, true) };
        foreach (var (batch, train) in calls)
        {
            var s = (int[])shape.Clone();
            s[0] = batch;
            using var x = integerInput ? Indices(batch, s) : Input(batch, s);
            RandomState.Seed(9);
            var expected = Step(imperative, x, train);
            RandomState.Seed(9);
            var actual = Step(hybrid, x, train);
            TensorAssert.AllClose(actual.Output, expected.Output, new Tolerance(1e-5, 1e-6),
                $"output b{batch} {train}");
            foreach (var ((name, g), (_, h)) in expected.Grads.Zip(actual.Grads))
                TensorAssert.AllClose(h, g, new Tolerance(1e-5, 1e-6), $"grad {name} b{batch} {train}");
        }
        hybrid.CachedGraphCount.ShouldBe(fixedShape ? 2 : 3);
    }

    [TestCaseSource(nameof(Options))]
    public void MlpAgreesWithImperative(HybridizeOptions options) => CheckAgree(Mlp, [4, 20], options);

    [Test]
    public void ConvolutionalNetAgreesWithImperative() => CheckAgree(Convs, [2, 3, 8, 8]);

    [Test]
    public void AgreesWithStaticAlloc() =>
        CheckAgree(Mlp, [4, 20], new HybridizeOptions { StaticAlloc = true });

    /// <summary>Every layer type, alone in a HybridSequential, with each hybridize option.</summary>
    public static IEnumerable<TestCaseData> Layers()
    {
        var options = new (string Name, HybridizeOptions Options)[]
        {
            ("default", new HybridizeOptions()), ("static alloc", new HybridizeOptions { StaticAlloc = true }),
            ("static alloc+shape", new HybridizeOptions { StaticAlloc = true, StaticShape = true }),
        };
        var layers = new (string Name, Func<Block> Make, int[] Shape)[]
        {
            ("Dense", () => new Dense(5, activation: "sigmoid"), [3, 7]),
            ("Dense no flatten", () => new Dense(4, flatten: false), [2, 3, 6]),
            ("Conv1D", () => new Conv1D(4, 3, padding: 1), [2, 3, 9]),
            ("Conv2D", () => new Conv2D(4, 3, strides: 2, padding: 1), [2, 3, 7, 7]),
            ("MaxPool2D", () => new MaxPool2D(2), [2, 3, 6, 6]),
            ("AvgPool2D", () => new AvgPool2D(3, 2, 1), [2, 3, 7, 7]),
            ("MaxPool1D", () => new MaxPool1D(2), [2, 3, 8]),
            ("AvgPool1D", () => new AvgPool1D(2), [2, 3, 8]),
            ("GlobalAvgPool2D", () => new GlobalAvgPool2D(), [2, 3, 5, 5]),
            ("GlobalMaxPool2D", () => new GlobalMaxPool2D(), [2, 3, 5, 5]),
            ("BatchNorm", () => new BatchNorm(), [4, 3, 5, 5]),
            ("Activation relu", () => new Activation("relu"), [3, 8]),
            ("Activation tanh", () => new Activation("tanh"), [3, 8]),
            ("Activation softrelu", () => new Activation("softrelu"), [3, 8]),
            ("Activation softsign", () => new Activation("softsign"), [3, 8]),
            ("LeakyReLU", () => new LeakyReLU(0.1), [3, 8]),
            ("Dropout", () => new Dropout(0.4), [3, 8]),
            ("Flatten", () => new Flatten(), [2, 3, 4]),
            ("HybridLambda", () => new HybridLambda(x => Nd.Exp(x) * 0.5 + x), [3, 4]),
        };
        foreach (var (name, make, shape) in layers)
        {
            foreach (var (optionName, option) in options)
            {
                // StaticShape forbids the batch-size change the check makes; it is checked at one size.
                yield return new TestCaseData(make, shape, option).SetName($"LayerAgrees({name}, {optionName})");
            }
        }
    }

    [TestCaseSource(nameof(Layers))]
    public void LayerAgrees(Func<Block> make, int[] shape, HybridizeOptions options) =>
        CheckAgree(() =>
        {
            var net = new HybridSequential();
            net.Add(make());
            return net;
        }, shape, options);

    [Test]
    public void EmbeddingAgreesWithImperative() =>
        CheckAgree(() =>
        {
            var net = new HybridSequential();
            net.Add(new Embedding(10, 4), new Dense(3));
            return net;
        }, [4, 3], integerInput: true);

    [Test]
    public void ResNetBlocksAgreeWithImperative() =>
        CheckAgree(() =>
        {
            var net = new HybridSequential();
            net.Add(new Conv2D(8, 3, padding: 1, useBias: false), new BatchNorm(), new Activation("relu"),
                new BasicBlockV1(8, 1, inChannels: 8), new BasicBlockV1(16, 2, downsample: true, inChannels: 8),
                new GlobalAvgPool2D(), new Dense(10));
            return net;
        }, [2, 3, 16, 16]);

    public static IEnumerable<TestCaseData> Options() =>
    [
        new TestCaseData(new HybridizeOptions()).SetArgDisplayNames("default"),
        new TestCaseData(new HybridizeOptions { StaticAlloc = true }).SetArgDisplayNames("static alloc"),
        new TestCaseData(new HybridizeOptions { StaticAlloc = true, StaticShape = true })
            .SetArgDisplayNames("static alloc+shape"),
    ];

    [TestCaseSource(nameof(Options))]
    public void LeNetAgreesWithImperative(HybridizeOptions options) =>
        CheckAgree(() =>
        {
            var net = new HybridSequential();
            net.Add(new Conv2D(6, 5), new Activation("relu"), new MaxPool2D(2), new Conv2D(16, 5),
                new Activation("relu"), new MaxPool2D(2), new Flatten(), new Dense(120, activation: "relu"),
                new Dense(84, activation: "relu"), new Dense(10));
            return net;
        }, [2, 1, 28, 28], options);

    [TestCaseSource(nameof(Options))]
    public void ResNet18AgreesWithImperative(HybridizeOptions options) =>
        CheckAgree(() =>
        {
            var net = new HybridSequential();
            net.Add(Engine.Gluon.ModelZoo.ResNet18V1(classes: 10, thumbnail: true));
            return net;
        }, [2, 3, 16, 16], options);

    [Test]
    public void ForwardRunsOnlyOnTheTracingCall()
    {
        var net = new SeedNet();
        net.Initialize();
        net.Hybridize();
        using var x = Input(1, 2, 1, 28, 28);
        for (int i = 0; i < 3; i++) net.Call(x).Dispose();
        net.Printed.Count.ShouldBe(1);
        net.Printed[0].ShouldStartWith("<Symbol data");
        using var other = Input(2, 5, 1, 28, 28);
        net.Call(other).Dispose();
        net.Printed.Count.ShouldBe(2, "a new input shape traces again");
        var graph = net.CachedGraph!;
        graph.Parameters.Select(p => p.Name).ShouldContain(net.Prefix + "fc3_weight");
        graph.Inputs.Single().Name.ShouldBe("data");
    }

    [Test]
    public void ARecordedCallIsOneTapeEntry()
    {
        var net = Mlp();
        net.Initialize();
        net.Hybridize();
        using var x = Input(1, 4, 20);
        NDArray y;
        using (Engine.Autograd.Record()) y = net.Call(x);
        var entry = y.Node!.Producer!;
        entry.Op.Name.ShouldBe("_cached_graph");
        entry.InputNodes.Count(n => n is not null).ShouldBe(net.CollectParams().Count);
        y.Backward();
        net.CollectParams().Values.ShouldAllBe(p => p.Grad().ToArray().Any(v => v != 0));
        y.Dispose();
    }

    [Test]
    public void StaticShapeRejectsANewShape()
    {
        var net = Mlp();
        net.Initialize();
        net.Hybridize(true, new HybridizeOptions { StaticAlloc = true, StaticShape = true });
        using var x = Input(1, 4, 20);
        net.Call(x).Dispose();
        using var y = Input(1, 5, 20);
        Should.Throw<InvalidOperationException>(() => net.Call(y)).Message.ShouldContain("StaticShape");
    }

    [Test]
    public void BranchingOnDataWhileTracingNamesTheBlock()
    {
        var net = new HybridSequential();
        net.Add(new HybridLambda(x => x.ToScalar() > 0 ? x : -x));
        net.Initialize();
        net.Hybridize();
        using var x = Nd.Array(new float[] { 1 });
        var error = Should.Throw<InvalidOperationException>(() => net.Call(x));
        error.Message.ShouldContain(net.Name);
        error.Message.ShouldContain("cannot branch on data");
    }

    [Test]
    public void InvalidationRetracesAfterAddCastAndHybridize()
    {
        var net = Mlp();
        net.Initialize();
        net.Hybridize();
        using var x = Input(1, 2, 20);
        net.Call(x).Dispose();
        net.CachedGraphCount.ShouldBe(1);
        net.Add(new Dense(3));
        net.CachedGraphCount.ShouldBe(0);
        net.Initialize();
        using (var y = net.Call(x)) y.Shape.ShouldBe(new Shape(2, 3));
        net.Hybridize();
        net.CachedGraphCount.ShouldBe(0);
        net.Call(x).Dispose();
        net.CachedGraphCount.ShouldBe(1);
        net.Initialize(forceReinit: true);
        net.CachedGraphCount.ShouldBe(0);
        net.Cast(DType.Float64);
        net.CachedGraphCount.ShouldBe(0);
    }

    [Test]
    public void GraphNamesFollowMXNet()
    {
        var net = Mlp();
        net.Initialize();
        net.Hybridize();
        using var x = Input(1, 2, 20);
        net.Call(x).Dispose();
        var names = net.CachedGraph!.Nodes.Select(n => n.Name).ToList();
        string first = ((Dense)net[0]).Prefix, second = ((Dense)net[1]).Prefix;
        names.ShouldContain(first + "weight");
        names.ShouldContain(second + "fwd");
        // A Dense with an activation: its own product is dense0_fwd, the activation child's dense0_relu_fwd.
        names.ShouldContain(first + "fwd");
        names.ShouldContain(first + "relu_fwd");
        net.CachedGraph.Outputs.Single().Node.Name.ShouldBe(second + "fwd");
        net.CachedGraph.ToString().ShouldContain($"%{second}fwd = fully_connected");
    }

    [Test]
    public void HybridizedCallsRejectMixedDevicesAndNulls()
    {
        var net = Mlp();
        net.Initialize();
        net.Hybridize();
        Should.Throw<ArgumentException>(() => net.CallMany(null!, null!)).Message.ShouldContain("All args are None");
    }

    [Test]
    public void GradReqAddAccumulatesThroughTheGraph()
    {
        var net = Mlp();
        net.Initialize();
        net.Hybridize();
        using var x = Input(1, 2, 20);
        net.Call(x).Dispose();
        var w = net.CollectParams().Values.First();
        w.GradReq = GradReq.Add;
        for (int i = 0; i < 2; i++)
        {
            NDArray y, l;
            using (Engine.Autograd.Record())
            {
                y = net.Call(x);
                l = Nd.Sum(y);
            }
            l.Backward();
            l.Dispose();
            y.Dispose();
        }
        var twice = w.Grad().ToArray();
        w.ZeroGrad();
        NDArray z, lz;
        using (Engine.Autograd.Record())
        {
            z = net.Call(x);
            lz = Nd.Sum(z);
        }
        lz.Backward();
        lz.Dispose();
        z.Dispose();
        TensorAssert.AllClose(twice, w.Grad().ToArray().Select(v => 2 * v).ToArray(), new Tolerance(1e-6, 1e-6),
            "two backward passes with grad_req add");
    }

    private sealed class SeedNet : HybridBlock
    {
        private readonly Conv2D conv1 = new(channels: 6, kernelSize: 5);
        private readonly MaxPool2D pool1 = new(poolSize: 2);
        private readonly Dense fc1 = new(120);
        private readonly Parameter fc3Weight;

        public SeedNet() => fc3Weight = Params.Get("fc3_weight", shape: new Shape(10, 120));

        public List<string> Printed { get; } = new();

        public override NDArray Forward(NDArray x)
        {
            Printed.Add(x.ToString());
            x = pool1.Call(Nd.Relu(conv1.Call(x)));
            x = x.Reshape(0, -1);
            x = Nd.Relu(fc1.Call(x));
            return Nd.Dot(x, fc3Weight.Data(), transposeB: true);
        }
    }
}
