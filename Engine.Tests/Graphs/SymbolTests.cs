using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.Tests.Support;

namespace Engine.Tests.Graphs;

/// <summary>Symbols built by hand and from Gluon blocks: names, internals, feature extraction (seeds/002).</summary>
public class SymbolTests
{
    [Test]
    public void BlockSymbolNamesInternalsLikeMXNet()
    {
        var net = new HybridSequential();
        // Children made inside the name scope are named under the container, as in MXNet.
        using (net.NameScope()) net.Add(new Dense(8, activation: "relu"), new Dense(3));
        net.Initialize();
        var sym = net.ToSymbol(new Shape(2, 5));
        string p = net.Prefix;
        var internals = sym.GetInternals();
        internals.ListOutputs().ShouldContain($"{p}dense1_fwd_output");
        internals.ListOutputs().ShouldContain($"{p}dense0_weight");
        sym.ListArguments().ShouldBe(["data", $"{p}dense0_weight", $"{p}dense0_bias", $"{p}dense1_weight",
            $"{p}dense1_bias"]);
        sym.ListOutputs().ShouldBe([$"{p}dense1_fwd_output"]);
    }

    [Test]
    public void SymbolBlockOverInternalsExtractsFeaturesWithSharedParameters()
    {
        // seeds/002: a network's intermediate output as a new block, sharing the trained parameters.
        var net = new HybridSequential();
        var first = new Dense(8, activation: "relu");
        net.Add(first, new Dense(3));
        net.Initialize();
        using var x = ExportImportTests.Input(4, 2, 5);
        var internals = net.ToSymbol(new Shape(2, 5)).GetInternals();
        string feature = internals.ListOutputs().Last(n => n.StartsWith(first.Prefix) && n.EndsWith("_output"));
        var features = new SymbolBlock(internals[feature], Symbol.Var("data"), net.CollectParams());
        using var expected = first.Call(x);
        using var actual = features.Call(x);
        actual.ToArray().ShouldBe(expected.ToArray());
        features.CollectParams()[first.Prefix + "weight"].ShouldBeSameAs(first.Params[first.Prefix + "weight"]);
    }

    [Test]
    public void HandBuiltSymbolRunsAndInfersShapes()
    {
        var data = Symbol.Var("data");
        var fc = Symbol.FullyConnected(data, 4, name: "fc1");
        var act = Symbol.Activation(fc, "tanh", name: "act");
        var outSym = Symbol.Group(act, act * 2.0 + 1.0);
        outSym.Count.ShouldBe(2);
        outSym.ListArguments().ShouldBe(["data", "fc1_weight", "fc1_bias"]);
        var (args, outs, _) = outSym.InferShape(new Dictionary<string, Shape> { ["data"] = new Shape(3, 7) });
        args[1].ShouldBe(new Shape(4, 7));
        outs.ShouldBe([new Shape(3, 4), new Shape(3, 4)]);
        var types = outSym.InferType(new Dictionary<string, Shape> { ["data"] = new Shape(3, 7) },
            new Dictionary<string, DType> { ["data"] = DType.Float64 });
        types.Outputs.ShouldAllBe(t => t == DType.Float64);

        var block = new SymbolBlock(outSym, data);
        block.Initialize();
        using var x = ExportImportTests.Input(1, 3, 7);
        var ys = block.CallMany(x);
        ys.Length.ShouldBe(2);
        using var w = block.CollectParams()["fc1_weight"].Data();
        using var b = block.CollectParams()["fc1_bias"].Data();
        using var reference = Nd.Tanh(Nd.FullyConnected(x, w, b, 4));
        ys[0].ToArray().ShouldBe(reference.ToArray());
        using var twice = reference * 2.0 + 1.0;
        ys[1].ToArray().ShouldBe(twice.ToArray());
    }

    [Test]
    public void InputsMustBeVariables()
    {
        var data = Symbol.Var("data");
        var fc = Symbol.FullyConnected(data, 4, name: "fcx");
        Should.Throw<ArgumentException>(() => new SymbolBlock(fc, fc)).Message
            .ShouldContain("Input symbols must be variable");
    }
}
