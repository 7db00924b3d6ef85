using System.Text.Json;
using Engine.Gluon;
using Engine.Gluon.Initializers;
using Engine.Gluon.NN;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The norm, activation, padding and container layers as Gluon blocks: MXNet's parameter names, shapes, deferred
/// inference and grad_req; errors that name the layer; HybridConcurrent and Identity; and hybridize, export and
/// import of a network using every one of them (MXNet's op names and attributes in the symbol file).
/// </summary>
public class NormActivationLayerTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        Block.ResetNameCounters();
        dir = Path.Combine(Path.GetTempPath(), "engine-layers-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    private static Dictionary<string, Parameter> Params(Block b) =>
        b.CollectParams().Values.ToDictionary(p => p.Name);

    [Test]
    public void ParameterNamesShapesAndDefaultsFollowMxnet()
    {
        var ln = new LayerNorm();
        var inorm = new InstanceNorm();
        var gn = new GroupNorm(numGroups: 2);
        var prelu = new PReLU();
        var prelu3 = new PReLU(inChannels: 3);
        foreach (var b in new Block[] { ln, inorm, gn, prelu, prelu3 }) b.Initialize();

        Params(ln).Keys.ShouldBe(["layernorm0_gamma", "layernorm0_beta"]);
        ln.Gamma.Shape.ShouldBe(new Shape(0), "in_channels is inferred on the first call");
        using (var y = ln.Call(Input(1, 2, 7))) y.Shape.ShouldBe(new Shape(2, 7));
        ln.Gamma.Shape.ShouldBe(new Shape(7));
        ln.Gamma.Data().ToArray().ShouldAllBe(v => v == 1f);
        ln.Beta.Data().ToArray().ShouldAllBe(v => v == 0f);

        Params(inorm).Keys.ShouldBe(["instancenorm0_gamma", "instancenorm0_beta"]);
        inorm.Gamma.GradReq.ShouldBe(GradReq.Null, "MXNet's InstanceNorm has scale=False by default");
        inorm.Beta.GradReq.ShouldBe(GradReq.Write);
        using (var y = inorm.Call(Input(2, 2, 3, 4))) y.Shape.ShouldBe(new Shape(2, 3, 4));
        inorm.Gamma.Shape.ShouldBe(new Shape(3));

        Params(gn).Keys.ShouldBe(["groupnorm0_gamma", "groupnorm0_beta"]);
        gn.Gamma.Shape.ShouldBe(new Shape(2), "MXNet 1.x: one gamma per group, known at construction");

        Params(prelu).Keys.ShouldBe(["prelu0_alpha"]);
        prelu.Alpha.Shape.ShouldBe(new Shape(1));
        prelu.Alpha.Data().ToArray().ShouldBe([0.25f]);
        Params(prelu3).Keys.ShouldBe(["prelu1_alpha"]);
        prelu3.Alpha.Shape.ShouldBe(new Shape(3));

        new ELU().Name.ShouldBe("elu0");
        new SELU().Name.ShouldBe("selu0");
        new GELU().Name.ShouldBe("gelu0");
        new Swish().Name.ShouldBe("swish0");
        new ReflectionPad2D(1).Name.ShouldBe("reflectionpad2d0");
        new HybridConcurrent().Name.ShouldBe("hybridconcurrent0");
        new Identity().Name.ShouldBe("identity0");
    }

    [Test]
    public void BadArgumentsNameTheLayerWhatWasExpectedAndTheFix()
    {
        var ln = new LayerNorm(inChannels: 4);
        ln.Initialize();
        Should.Throw<ArgumentException>(() => ln.Call(Input(1, 2, 5))).Message
            .ShouldContain("LayerNorm 'layernorm0': input (2, 5) needs gamma and beta of shape (5,)");
        var gn = new GroupNorm(4);
        gn.Initialize();
        var e = Should.Throw<ArgumentException>(() => gn.Call(Input(1, 2, 6, 3))).Message;
        e.ShouldContain("GroupNorm 'groupnorm0'");
        e.ShouldContain("divisible by num_groups 4");
        var prelu = new PReLU(inChannels: 3);
        prelu.Initialize();
        Should.Throw<ArgumentException>(() => prelu.Call(Input(1, 2, 4, 5))).Message
            .ShouldContain("PReLU 'prelu0': alpha has 3 values (inChannels) but input (2, 4, 5) has 4 channels");
        var inorm = new InstanceNorm();
        inorm.Initialize();
        Should.Throw<ArgumentException>(() => inorm.Call(Input(1, 2, 4))).Message
            .ShouldContain("InstanceNorm 'instancenorm0': input (2, 4) needs at least 3 axes");
        var pad = new ReflectionPad2D(3);
        Should.Throw<ArgumentException>(() => pad.Call(Input(1, 1, 1, 3, 5))).Message
            .ShouldContain("must be smaller than its size 3");
        Should.Throw<ArgumentException>(() => new ReflectionPad2D([1, 1, 0, 0, 1, 1, 1, 1])).Message
            .ShouldContain("MXNet's 8-tuple (0, 0, 0, 0, top, bottom, left, right)");
        Should.Throw<ArgumentOutOfRangeException>(() => new LayerNorm(epsilon: 0)).Message
            .ShouldContain("LayerNorm: epsilon must be a positive finite number");
        Should.Throw<ArgumentOutOfRangeException>(() => new GroupNorm(0)).Message
            .ShouldContain("GroupNorm: numGroups must be positive");
        Should.Throw<InvalidOperationException>(() => new HybridConcurrent().Call(Input(1, 2, 3))).Message
            .ShouldContain("has no children to run; Add blocks");
    }

    [Test]
    public void HybridConcurrentConcatenatesItsChildrenImperativelyAndHybridized()
    {
        var net = new HybridConcurrent(axis: 1);
        var dense = new Dense(3);
        net.Add(dense, new Identity(), new GELU());
        net.Initialize();
        using var x = Input(4, 2, 5);
        using var y = net.Call(x);
        y.Shape.ShouldBe(new Shape(2, 3 + 5 + 5));
        using var d = dense.Call(x);
        using var g = Nd.Gelu(x);
        using var expected = Nd.Concat(1, d, x, g);
        y.ToArray().ShouldBe(expected.ToArray());
        net.Hybridize();
        using var h = net.Call(x);
        h.ToArray().ShouldBe(expected.ToArray());

        var plain = new Concurrent();
        plain.Add(new Identity(), new Swish(2));
        using var z = plain.Call(x);
        using var s = Nd.Swish(x, 2);
        using var zExpected = Nd.Concat(-1, x, s);
        z.ToArray().ShouldBe(zExpected.ToArray());
    }

    /// <summary>Every new layer in one hybridized network: exported, imported, identical outputs.</summary>
    [Test]
    public void NetworkOfTheNewLayersExportsAndImportsBack()
    {
        var net = new HybridSequential();
        var branches = new HybridConcurrent(axis: 1);
        branches.Add(new ELU(0.5), new SELU(), new Swish(), new Identity());
        net.Add(new ReflectionPad2D(1), new InstanceNorm(scale: true), new GroupNorm(3), new PReLU(inChannels: 3),
            new Flatten(), new Dense(8), new LayerNorm(), new GELU(), new PReLU(), branches);
        net.Initialize(new Xavier());
        net.Hybridize();
        using var x = Input(5, 2, 3, 4, 4);
        using (Engine.Autograd.Record()) net.Call(x).Dispose();
        using var y = net.Call(x);
        y.Shape.ShouldBe(new Shape(2, 32));
        var (symbolFile, paramsFile) = net.Export(Path.Combine(dir, "layers"));

        using var json = JsonDocument.Parse(File.ReadAllText(symbolFile));
        var nodes = json.RootElement.GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("op").GetString() != "null")
            .Select(n => (Op: n.GetProperty("op").GetString()!, Name: n.GetProperty("name").GetString()!,
                Attrs: n.TryGetProperty("attrs", out var a)
                    ? a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                    : [])).ToList();
        var ops = nodes.Select(n => n.Op).ToList();
        ops.ShouldContain("Pad");
        ops.ShouldContain("InstanceNorm");
        ops.ShouldContain("GroupNorm");
        ops.ShouldContain("LayerNorm");
        ops.ShouldContain("Concat");
        nodes.Single(n => n.Op == "Pad").Attrs["mode"].ShouldBe("reflect");
        nodes.Single(n => n.Op == "Pad").Attrs["pad_width"].ShouldBe("(0, 0, 0, 0, 1, 1, 1, 1)");
        nodes.Single(n => n.Op == "GroupNorm").Attrs["num_groups"].ShouldBe("3");
        nodes.Single(n => n.Op == "InstanceNorm").Attrs["eps"].ShouldBe("1e-05");
        var leaky = nodes.Where(n => n.Op == "LeakyReLU").Select(n => n.Attrs["act_type"]).Order().ToList();
        leaky.ShouldBe(["elu", "gelu", "prelu", "prelu", "selu"]);
        nodes.Single(n => n.Attrs.GetValueOrDefault("act_type") == "elu").Attrs["slope"].ShouldBe("0.5");
        var keys = Engine.IO.MXNetParams.Load(paramsFile).Select(p => p.Key).ToList();
        keys.ShouldContain("arg:prelu0_alpha");
        keys.ShouldContain("arg:groupnorm0_gamma");
        keys.ShouldContain("arg:layernorm0_beta");

        var imported = SymbolBlock.Imports(symbolFile, ["data"], paramsFile);
        using var z = imported.Call(x);
        z.ToArray().ShouldBe(y.ToArray(), "the imported block computes exactly what the exported one did");
        imported.Hybridize();
        using var h = imported.Call(x);
        h.ToArray().ShouldBe(y.ToArray());
    }

    [Test]
    public void InstanceNormOnAnotherAxisSwapsItWithTheChannels()
    {
        var last = new InstanceNorm(axis: -1, scale: true);
        last.Initialize();
        using var x = Input(6, 2, 5, 3);
        using var y = last.Call(x);
        last.Gamma.Shape.ShouldBe(new Shape(3));
        using var moved = x.Transpose([0, 2, 1]);
        using var g = Nd.Ones(new Shape(3));
        using var b = Nd.Zeros(new Shape(3));
        using var expected = Nd.InstanceNorm(moved, g, b, 1e-5).Transpose([0, 2, 1]);
        y.ToArray().ShouldBe(expected.ToArray());
    }
}
