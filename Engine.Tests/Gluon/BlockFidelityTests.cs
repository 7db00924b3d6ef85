using Engine.Gluon;
using Engine.Gluon.Initializers;
using Engine.Gluon.NN;
using Engine.Gluon.Optimizers;
using Engine.IO;

namespace Engine.Tests.Gluon;

/// <summary>Blocks that must behave as MXNet 1.x's: naming, child replacement, sharing, keys, slicing.</summary>
[NonParallelizable]
public class BlockFidelityTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        Block.ResetNameCounters();
        dir = Path.Combine(Path.GetTempPath(), "engine-fidelity-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    private sealed class M : Block
    {
        public Dense D { get; } = new(3, inUnits: 2);

        public Dense E { get; } = new(4, inUnits: 3);

        public override NDArray Forward(NDArray x) => E.Call(D.Call(x));
    }

    [Test]
    public void ANamesDoNotDependOnWhatIsReadFirst()
    {
        var m = new M();
        _ = m.D.CollectParams();                      // read the child's names before the parent's
        m.D.Prefix.ShouldBe("m0_dense0_");
        m.E.Prefix.ShouldBe("m0_dense1_");
        m.CollectParams().Keys.ShouldBe(["m0_dense0_weight", "m0_dense0_bias", "m0_dense1_weight", "m0_dense1_bias"]);
        new Dense(1).Prefix.ShouldBe("dense0_");      // the children took no global number
    }

    [Test]
    public void BlocksBuiltOnSeveralThreadsGetDistinctConsistentNames()
    {
        var models = new M[64];
        Parallel.For(0, models.Length, i =>
        {
            models[i] = new M();
            _ = models[i].E.CollectParams();
        });
        models.Select(m => m.Prefix).Distinct().Count().ShouldBe(models.Length);
        models.ShouldAllBe(m => m.D.Prefix == m.Prefix + "dense0_" && m.E.Prefix == m.Prefix + "dense1_");
    }

    private sealed class Holder : Block
    {
        public Dense C { get; set; } = new(2, inUnits: 3);

        public override NDArray Forward(NDArray x) => C.Call(x);
    }

    [Test]
    public void AChildReplacedAfterUseIsSeenEverywhere()
    {
        var b = new Holder();
        b.Initialize(new Constant(1));
        using var x = Nd.Array(new float[] { 1, 2, 3, 4, 5, 6 }, new Shape(2, 3));
        b.Call(x).Dispose();
        var old = b.C;
        var c2 = new Dense(2, inUnits: 3);
        b.C = c2;
        b.Children.ShouldHaveSingleItem().ShouldBe(("c", (Block)c2));
        c2.Prefix.ShouldBe("holder0_dense1_");
        var collected = b.CollectParams();
        collected.Values.ShouldContain(c2.Weight);
        collected.Values.ShouldNotContain(old.Weight);
        b.Initialize(new Constant(0.5));
        c2.Weight.IsInitialized.ShouldBeTrue();
        var trainer = new Trainer(b.CollectParams(), new SGD(learningRate: 1));
        trainer.Parameters.ShouldContain(c2.Weight);
        NDArray y;
        using (Engine.Autograd.Record()) y = b.Call(x);
        y.ToArray<float>().ShouldBe([3f, 3f, 7.5f, 7.5f]);      // 0.5 * row sums, the new child's weights
        y.Backward();
        trainer.Step(1);
        // d sum(y) / dW = column sums of x for every row of W: 0.5 - (1 + 4), 0.5 - (2 + 5), 0.5 - (3 + 6)
        c2.Weight.Data().ToArray<float>().ShouldBe([-4.5f, -6.5f, -8.5f, -4.5f, -6.5f, -8.5f]);
        old.Weight.Data().ToArray<float>().ShouldAllBe(v => v == 1f);
        b.StructuralParameters().Select(p => p.Value).ShouldBe([c2.Weight, c2.Bias!]);
    }

    [Test]
    public void AParameterFieldCannotBeOverridden()
    {
        var b = new WithParameter();
        b.CollectParams();
        b.W = new Parameter("w", shape: new Shape(2));
        Should.Throw<InvalidOperationException>(() => b.CollectParams()).Message
            .ShouldContain("Overriding Parameter attribute w of WithParameter is not allowed");
    }

    private sealed class WithParameter : Block
    {
        public Parameter W { get; set; } = new("w", shape: new Shape(1));
    }

    private sealed class Twin : Block
    {
        private readonly Dense a = new(4, inUnits: 3);
        private readonly Dense b = new(2, inUnits: 4);

        public Twin(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

        public override NDArray Forward(NDArray x) => b.Call(a.Call(x));
    }

    private sealed class Outer : Block
    {
        private readonly Twin inner = new();

        public Outer(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

        public override NDArray Forward(NDArray x) => inner.Call(x);
    }

    [Test]
    public void ParamsSharesTheWholeTree()
    {
        var net1 = new Twin("net1_");
        net1.Initialize();
        var net2 = new Twin("net2_", @params: net1.CollectParams());
        net2.Prefix.ShouldBe("net2_");
        net2.Children[0].Child.Prefix.ShouldBe("net2_dense0_");
        net2.CollectParams().Keys.ShouldBe(["net1_dense0_weight", "net1_dense0_bias", "net1_dense1_weight",
            "net1_dense1_bias"]);
        net2.CollectParams().Values.ShouldBe(net1.CollectParams().Values);   // the same objects
        using var x = Nd.RandomUniform(-1, 1, new Shape(5, 3));
        using var y1 = net1.Call(x);
        using var y2 = net2.Call(x);
        y2.ToArray<float>().ShouldBe(y1.ToArray<float>());

        // Grandchildren share too, and so do blocks added in the sharing block's NameScope.
        var outer1 = new Outer("o1_");
        var outer2 = new Outer("o2_", outer1.CollectParams());
        outer2.CollectParams().Values.ShouldBe(outer1.CollectParams().Values);
        var s1 = new Sequential("s1_");
        using (s1.NameScope()) s1.Add(new Dense(3, inUnits: 2));
        var s2 = new Sequential("s2_", s1.CollectParams());
        using (s2.NameScope()) s2.Add(new Dense(3, inUnits: 2));
        s2.CollectParams().Values.ShouldBe(s1.CollectParams().Values);
    }

    [Test]
    public void SharingChecksShapeAndDType()
    {
        var net1 = new Dense(4, inUnits: 3, prefix: "d_");
        Should.Throw<ArgumentException>(() => new Dense(4, inUnits: 5, @params: net1.Params)).Message
            .ShouldContain("attribute 'shape'");
    }

    private sealed class PascalModel : HybridBlock
    {
        public HybridSequential Features { get; } = new(prefix: "");

        [StructuralKey("output")]
        private readonly Dense head = new(2, inUnits: 3);

        [StructuralKey("scale")]
        public ConstantParameter Gain { get; } = new("gain", Nd.Ones(new Shape(1)));

        public PascalModel()
        {
            Features.Add(new Dense(3, inUnits: 4));
        }

        public override NDArray Forward(NDArray x) => head.Call(Features.Call(x));
    }

    [Test]
    public void KeysFollowMXNetAttributeNames()
    {
        var net = new PascalModel();
        net.StructuralParameters().Select(p => p.Key)
            .ShouldBe(["scale", "features.0.weight", "features.0.bias", "output.weight", "output.bias"]);
        Block.SnakeCase("ClassPredictors").ShouldBe("class_predictors");
        Block.SnakeCase("IOHandler").ShouldBe("io_handler");
        Block.SnakeCase("Conv2D").ShouldBe("conv2d");
        Block.SnakeCase("fc1").ShouldBe("fc1");

        // A file keyed as MXNet's save_parameters writes it loads.
        string path = Path.Combine(dir, "mx.params");
        using var w0 = Nd.RandomUniform(-1, 1, new Shape(3, 4));
        using var b0 = Nd.RandomUniform(-1, 1, new Shape(3));
        using var w1 = Nd.RandomUniform(-1, 1, new Shape(2, 3));
        using var b1 = Nd.RandomUniform(-1, 1, new Shape(2));
        using var g = Nd.Full(new Shape(1), 2.0);
        MXNetParams.Save(path, [new("features.0.weight", w0), new("features.0.bias", b0), new("output.weight", w1),
            new("output.bias", b1), new("scale", g)]);
        net.LoadParameters(path);
        net.StructuralParameters()[3].Value.Data().ToArray<float>().ShouldBe(w1.ToArray<float>());
        net.Gain.Data().ToArray<float>().ShouldBe([2f]);
    }

    private sealed class Stack : Sequential
    {
        public Stack(int layers)
        {
            for (int i = 0; i < layers; i++) Add(new Dense(2, inUnits: 2));
        }
    }

    [Test]
    public void SlicingASequentialSubclassWithoutThePrefixConstructorWorks()
    {
        var s = new Stack(3);
        var tail = s[1..];
        tail.Count.ShouldBe(2);
        tail[0].ShouldBeSameAs(s[1]);
        tail.Prefix.ShouldBe(s.Prefix);
    }
}
