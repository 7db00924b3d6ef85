using System.Text.Json;
using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.IO;
using Engine.Tests.Gluon;
using Engine.Tests.Support;

namespace Engine.Tests.Graphs;

/// <summary>
/// Export writes MXNet 1.x files; Imports reads them back into a SymbolBlock that computes exactly what the
/// exported block computed, imperatively and hybridized.
/// </summary>
public class ExportImportTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        dir = Path.Combine(Path.GetTempPath(), "engine-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    internal static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    internal static HybridSequential Mlp()
    {
        var net = new HybridSequential();
        net.Add(new Dense(16, activation: "relu"), new Dense(10));
        return net;
    }

    internal static HybridSequential ConvBatchNorm()
    {
        var net = new HybridSequential();
        net.Add(new Conv2D(4, 3, padding: 1), new BatchNorm(), new Activation("relu"), new MaxPool2D(2),
            new Conv2D(6, 3, useBias: false), new Activation("tanh"), new AvgPool2D(2), new Flatten(),
            new Dropout(0.3), new Dense(5));
        return net;
    }

    private static readonly HybridizeOptions Unfused = new() { Fusion = false };

    /// <summary>Trains one step (so BatchNorm's running statistics move), exports, imports, compares exactly.</summary>
    private (float[] Expected, SymbolBlock Imported, string Prefix) RoundTrip(HybridBlock net, int[] shape)
    {
        RandomState.Seed(3);
        net.Initialize();
        // Exactness across export and import holds for the operators as traced; fusion (BatchNorm folded into the
        // convolution's weights) changes the rounding, so these runs compare unfused graphs.
        net.Hybridize(true, Unfused);
        using (var x0 = Input(1, shape))
        using (Engine.Autograd.Record())
        {
            net.Call(x0).Dispose();
        }
        using var x = Input(2, shape);
        using var y = net.Call(x);
        string prefix = Path.Combine(dir, "model");
        var (symbolFile, paramsFile) = net.Export(prefix, epoch: 7);
        symbolFile.ShouldBe(prefix + "-symbol.json");
        paramsFile.ShouldBe(prefix + "-0007.params");
        var imported = SymbolBlock.Imports(symbolFile, ["data"], paramsFile);
        using var z = imported.Call(x);
        z.Shape.ShouldBe(y.Shape);
        z.ToArray().ShouldBe(y.ToArray(), "the imported block computes exactly what the exported one did");
        imported.Hybridize(true, Unfused);
        using var h = imported.Call(x);
        h.ToArray().ShouldBe(y.ToArray(), "hybridized, the imported block agrees exactly too");
        return (y.ToArray(), imported, prefix);
    }

    [Test]
    public void MlpRoundTripsExactly()
    {
        var (_, imported, prefix) = RoundTrip(Mlp(), [4, 20]);
        using var json = JsonDocument.Parse(File.ReadAllText(prefix + "-symbol.json"));
        var ops = json.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("op").GetString())
            .Where(o => o != "null").ToList();
        ops.ShouldBe(["FullyConnected", "Activation", "FullyConnected"]);
        imported.Symbol.ListArguments().Count.ShouldBe(5);
        var keys = MXNetParams.Load(prefix + "-0007.params").Select(p => p.Key).ToList();
        keys.ShouldAllBe(k => k.StartsWith("arg:"));
        keys.Count.ShouldBe(4);

        // An imported block exports again, and that export imports to the same function.
        var (again, againParams) = imported.Export(Path.Combine(dir, "again"));
        using var x = Input(2, 4, 20);
        using var first = imported.Call(x);
        using var second = SymbolBlock.Imports(again, ["data"], againParams).Call(x);
        second.ToArray().ShouldBe(first.ToArray());
    }

    [Test]
    public void SeedLeNetRoundTripsExactly()
    {
        var (_, imported, prefix) = RoundTrip(new Net(), [2, 1, 28, 28]);
        var text = File.ReadAllText(prefix + "-symbol.json");
        text.ShouldContain("\"Convolution\"");
        text.ShouldContain("\"Pooling\"");
        text.ShouldContain("\"Reshape\"");
        text.ShouldContain("\"dot\"");
        imported.Symbol.ListArguments().ShouldContain(n => n.EndsWith("fc3_weight"));
    }

    [Test]
    public void ConvolutionBatchNormNetRoundTripsExactly()
    {
        var (_, imported, prefix) = RoundTrip(ConvBatchNorm(), [2, 3, 8, 8]);
        var keys = MXNetParams.Load(prefix + "-0007.params").Select(p => p.Key).ToList();
        keys.Where(k => k.StartsWith("aux:")).Count().ShouldBe(2);
        keys.ShouldContain(k => k.StartsWith("aux:") && k.EndsWith("running_mean"));
        imported.Symbol.ListAuxiliaryStates().Count.ShouldBe(2);
        var text = File.ReadAllText(prefix + "-symbol.json");
        foreach (var op in new[] { "BatchNorm", "Dropout", "Activation", "Pooling", "FullyConnected" })
            text.ShouldContain($"\"op\": \"{op}\"");
    }

    [Test]
    public void ImportedBlockTrainsWithTheSameGradients()
    {
        var net = Mlp();
        var (_, imported, _) = RoundTrip(net, [4, 20]);
        using var x = Input(5, 4, 20);
        foreach (bool hybrid in new[] { false, true })
        {
            imported.Hybridize(hybrid);
            NDArray a, b;
            using (Engine.Autograd.Record())
            {
                a = Nd.Sum(net.Call(x) * 3);
                b = Nd.Sum(imported.Call(x) * 3);
            }
            a.Backward();
            b.Backward();
            var mine = imported.CollectParams();
            foreach (var p in net.CollectParams().Values)
                mine[p.Name].Grad().ToArray().ShouldBe(p.Grad().ToArray(), $"gradient of {p.Name}, hybrid {hybrid}");
            a.Dispose();
            b.Dispose();
        }
    }

    [Test]
    public void ExportBeforeAHybridizedCallIsMXNetsError()
    {
        var net = Mlp();
        net.Initialize();
        Should.Throw<InvalidOperationException>(() => net.Export(Path.Combine(dir, "m")))
            .Message.ShouldContain("Please first call block.hybridize() and then run forward");
    }

    [Test]
    public void AnOperatorWithoutMXNetCounterpartIsNamed()
    {
        // softmax_cross_entropy gives a per-sample loss; MXNet's op of that name sums it, so there is no match.
        var loss = new LossNet();
        loss.Hybridize();
        using var logits = Input(2, 3, 4);
        loss.Call(logits).Dispose();
        var e = Should.Throw<NotSupportedException>(() => loss.Export(Path.Combine(dir, "l")));
        e.Message.ShouldContain("softmax_cross_entropy");
        e.Message.ShouldContain("no MXNet 1.x counterpart");
    }

    private sealed class LossNet : HybridBlock
    {
        public override NDArray Forward(NDArray x)
        {
            using var labels = Nd.Array(new float[] { 0, 1, 2 });
            return Nd.SoftmaxCrossEntropy(x, labels);
        }
    }

    [Test]
    public void ScalarArithmeticExportsAsScalarOperators()
    {
        var net = new ScalarNet();
        net.Initialize();
        net.Hybridize();
        using var x = Input(1, 2, 3);
        using var y = net.Call(x);
        var (symbolFile, paramsFile) = net.Export(Path.Combine(dir, "s"));
        var text = File.ReadAllText(symbolFile);
        text.ShouldContain("_plus_scalar");
        text.ShouldContain("_rminus_scalar");
        text.ShouldContain("_mul_scalar");
        using var z = SymbolBlock.Imports(symbolFile, ["data"], paramsFile).Call(x);
        z.ToArray().ShouldBe(y.ToArray());
    }

    private sealed class ScalarNet : HybridBlock
    {
        public override NDArray Forward(NDArray x) => (1 - (x + 2)) * 3;
    }

    [Test]
    public void ImportedBlockNestsInAHybridBlockAndHybridizes()
    {
        var (expected, imported, _) = RoundTrip(Mlp(), [4, 20]);
        var outer = new Wrapper(imported);
        using var x = Input(2, 4, 20);
        using var imperative = outer.Call(x);
        outer.Hybridize();
        using var hybrid = outer.Call(x);
        hybrid.ToArray().ShouldBe(imperative.ToArray());
        using var twice = Nd.Array(expected, new Shape(4, 10)) * 2;
        TensorAssert.AllClose(imperative.ToArray(), twice.ToArray(), new Tolerance(0, 0), "outer = 2 * inner");
        outer.CachedGraph!.Operators.Count().ShouldBeGreaterThan(2);
    }

    private sealed class Wrapper : HybridBlock
    {
        private readonly SymbolBlock inner;

        public Wrapper(SymbolBlock inner)
        {
            this.inner = inner;
            RegisterChild(inner, "inner");
        }

        public override NDArray Forward(NDArray x) => inner.Call(x) * 2;
    }
}
