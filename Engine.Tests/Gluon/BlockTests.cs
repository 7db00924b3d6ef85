using Engine.Gluon;
using Engine.Gluon.Initializers;
using Engine.Gluon.NN;

namespace Engine.Tests.Gluon;

[NonParallelizable]
public class BlockTests
{
    [SetUp]
    public void FreshNames() => Block.ResetNameCounters();

    [Test]
    public void NamesFollowMXNet()
    {
        var d0 = new Dense(10);
        var d1 = new Dense(10);
        d0.Prefix.ShouldBe("dense0_");
        d1.Weight.Name.ShouldBe("dense1_weight");
        var mlp = new Mlp();
        mlp.CollectParams().Keys.ShouldBe(["mlp0_dense0_weight", "mlp0_dense0_bias", "mlp0_dense1_weight",
            "mlp0_dense1_bias"]);
        new Mlp().Prefix.ShouldBe("mlp1_");
        var net = new Sequential();
        using (net.NameScope()) net.Add(new Dense(4), new Conv2D(3, 3));
        net.CollectParams().Keys.ShouldBe(["sequential0_dense0_weight", "sequential0_dense0_bias",
            "sequential0_conv0_weight", "sequential0_conv0_bias"]);
        new Dense(3, prefix: "mydense_").Weight.Name.ShouldBe("mydense_weight");
    }

    [Test]
    public void CollectParamsSelectsWithARegexAnchoredAtTheStart()
    {
        var mlp = new Mlp();
        mlp.CollectParams(".*weight").Keys.ShouldBe(["mlp0_dense0_weight", "mlp0_dense1_weight"]);
        mlp.CollectParams("dense").Count.ShouldBe(0);
        mlp.CollectParams("mlp0_dense1").Count.ShouldBe(2);
    }

    [Test]
    public void ChildrenInFieldsAreRegisteredInDeclarationOrder()
    {
        var net = new Net();
        net.Children.Select(c => c.Name).ShouldBe(["conv1", "pool1", "conv2", "pool2", "fc1", "fc2"]);
        net.Params.Keys.ShouldBe(["net0_fc3_weight"]);
    }

    [Test]
    public void PlainListOfBlocksWarnsLikeMXNet()
    {
        var ssd = new ToySsdWithList();
        using (Warnings.Capture(out var messages))
        {
            ssd.CollectParams();
            messages.ShouldHaveSingleItem().ShouldContain(
                "\"ToySsdWithList.Downsamplers\" is an unregistered container with Blocks");
        }
        var fine = new ToySsd(2);
        using (Warnings.Capture(out var none))
        {
            fine.CollectParams();
            none.ShouldBeEmpty();
        }
    }

    [Test]
    public void SequentialIndexingSlicingAndCount()
    {
        var net = new Sequential();
        var a = new Dense(3);
        var b = new Dense(4);
        var c = new Dense(5);
        net.Add(a, b, c);
        net.Count.ShouldBe(3);
        net[0].ShouldBeSameAs(a);
        net[-1].ShouldBeSameAs(c);
        var tail = net[1..];
        tail.ShouldBeOfType<Sequential>();
        tail.Count.ShouldBe(2);
        tail[0].ShouldBeSameAs(b);
        tail.Prefix.ShouldBe(net.Prefix);
        net.ToList().ShouldBe([a, b, c]);
        Should.Throw<IndexOutOfRangeException>(() => net[3]).Message.ShouldContain("out of range for 3 children");
        var hybrid = new HybridSequential();
        Should.Throw<ArgumentException>(() => hybrid.Add(new Mlp())).Message
            .ShouldContain("Children of HybridBlock must also be HybridBlock");
    }

    [Test]
    public void DeferredInitializationInfersShapesOnFirstCall()
    {
        var net = new Sequential();
        net.Add(new Dense(256, activation: "relu"), new Dense(10));
        net.Initialize();
        var w = ((Dense)net[0]).Weight;
        w.IsDeferred.ShouldBeTrue();
        Should.Throw<DeferredInitializationException>(() => w.Data()).Message.ShouldContain("deferred");
        using var x = Nd.RandomUniform(0, 1, new Shape(2, 20));
        using var y = net.Call(x);
        y.Shape.ShouldBe(new Shape(2, 10));
        w.Shape.ShouldBe(new Shape(256, 20));
        net.ToString().ShouldContain("Dense(20 -> 256, Activation(relu))");
    }

    [Test]
    public void UninitializedParameterSaysHowToFix()
    {
        var d = new Dense(3, inUnits: 2);
        Should.Throw<InvalidOperationException>(() => d.Weight.Data()).Message
            .ShouldContain("has not been initialized. Note that you should initialize parameters");
        d.Initialize();
        using (Warnings.Capture(out var messages))
        {
            d.Initialize();
            messages.Count.ShouldBe(2);
            messages[0].ShouldContain("Parameter 'dense0_weight' is already initialized, ignoring");
        }
        d.Weight.GradReq = GradReq.Null;
        Should.Throw<InvalidOperationException>(() => d.Weight.Grad()).Message.ShouldContain("grad_req='null'");
    }

    [Test]
    public void HooksRunAroundForwardAndDetach()
    {
        var d = new Dense(2, inUnits: 3);
        d.Initialize();
        var log = new List<string>();
        var pre = d.RegisterForwardPreHook((b, i) => log.Add($"pre {i[0].Shape}"));
        using (d.RegisterForwardHook((b, i, o) => log.Add($"post {o[0].Shape}")))
        {
            using var x = Nd.Ones(1, 3);
            d.Call(x).Dispose();
        }
        pre.Dispose();
        using var x2 = Nd.Ones(1, 3);
        d.Call(x2).Dispose();
        log.ShouldBe(["pre (1, 3)", "post (1, 2)"]);
    }

    [Test]
    public void ApplyVisitsChildrenFirst()
    {
        var mlp = new Mlp();
        var order = new List<string>();
        mlp.Apply(b => order.Add(b.Name));
        order.ShouldBe(["mlp0_dense0_relu", "mlp0_dense0", "mlp0_dense1", "mlp0"]);
    }

    [Test]
    public void SharedLayerAndSharedParams()
    {
        var shared = new Dense(8, inUnits: 8);
        var net = new Sequential();
        net.Add(shared, new Dense(8, inUnits: 8), shared);
        net.CollectParams().Count.ShouldBe(4);
        var twin = new Dense(8, inUnits: 8, @params: shared.Params);
        twin.Weight.ShouldBeSameAs(shared.Weight);
    }

    [Test]
    public void ConstantIsNotTrainable()
    {
        var net = new FixedHiddenMlp();
        net.Initialize();
        var c = net.CollectParams()["fixedhiddenmlp0_rand_weight"];
        c.GradReq.ShouldBe(GradReq.Null);
        using var x = Nd.RandomUniform(0, 1, new Shape(2, 20));
        using var y = net.Call(x);
        y.Shape.ShouldBe(Shape.Scalar);
        Math.Abs(y.ToScalar()).ShouldBeLessThanOrEqualTo(20 * 2);
    }

    [Test]
    public void SeedImperativeProgramsRun()
    {
        using var scope = NDArray.Scope();
        var x = Nd.RandomUniform(0, 1, new Shape(2, 20));
        var seq = new Sequential();
        seq.Add(new Dense(256, activation: "relu"), new Dense(10));
        seq.Initialize();
        seq.Call(x).Shape.ShouldBe(new Shape(2, 10));

        var mlp = new Mlp();
        mlp.Initialize();
        mlp.Call(x).Shape.ShouldBe(new Shape(2, 10));

        var mine = new MySequential();
        mine.Add(new Dense(256, activation: "relu"));
        mine.Add(new Dense(10));
        mine.Initialize();
        mine.Call(x).Shape.ShouldBe(new Shape(2, 10));
        mine.CollectParams().Count.ShouldBe(4);

        var chimera = new Sequential();
        chimera.Add(new NestMlp(), new Dense(20), new FixedHiddenMlp());
        chimera.Initialize();
        chimera.Call(x).Shape.ShouldBe(Shape.Scalar);

        var parallel = new ParallelBlock(new Mlp(), new Dense(5));
        parallel.Initialize();
        parallel.Call(x).Shape.ShouldBe(new Shape(2, 15));

        // The factory exercise: several instances of one block, chained.
        static Block Factory(int n)
        {
            var net = new Sequential();
            for (int i = 0; i < n; i++) net.Add(new Dense(20, activation: "relu"));
            return net;
        }
        var big = Factory(3);
        big.Initialize();
        big.Call(x).Shape.ShouldBe(new Shape(2, 20));
        big.CollectParams().Count.ShouldBe(6);
    }

    [Test]
    public void SeedHybridNetworksRun()
    {
        using var scope = NDArray.Scope();
        var net = new Net();
        net.Initialize(new Uniform(0.1));
        var x = Nd.RandomNormal(0, 1, new Shape(16, 1, 28, 28));
        net.Call(x).Shape.ShouldBe(new Shape(16, 10));
        net.Printed.ShouldBe(["(16, 1, 28, 28)"]);

        var block = new BasicBlockV1(8, 2, downsample: true, inChannels: 4);
        block.Initialize();
        block.Call(Nd.RandomNormal(0, 1, new Shape(2, 4, 8, 8))).Shape.ShouldBe(new Shape(2, 8, 4, 4));
        block.CollectParams().Keys.Count(k => k.Contains("running_mean")).ShouldBe(3);

        var ssd = new ToySsd(3);
        ssd.Initialize();
        var preds = ssd.Call(Nd.RandomNormal(0, 1, new Shape(2, 3, 32, 32)));
        preds.Shape[0].ShouldBe(2);
        preds.Shape[2].ShouldBe(4);
    }
}
