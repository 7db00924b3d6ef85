using System.Text.Json;
using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Graphs;

/// <summary>
/// Hybridized blocks with Conv3D, the transposed convolutions and 1-D / 3-D pooling export to MXNet's symbol JSON
/// (Deconvolution with adj and num_filter, Pooling with 1-D and 3-D kernels, NCW / NCDHW layouts) and import back
/// into a SymbolBlock that computes exactly the same outputs, eagerly and hybridized.
/// </summary>
[NonParallelizable]
public class ExportConvolutionNdTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        Block.ResetNameCounters();
        dir = Path.Combine(Path.GetTempPath(), "engine-export-nd-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    /// <summary>Exports the hybridized net, imports it, checks the outputs agree exactly; returns the nodes.</summary>
    private List<JsonElement> RoundTrip(HybridBlock net, int[] shape)
    {
        RandomState.Seed(5);
        net.Initialize();
        net.Hybridize();
        using var x = Input(2, shape);
        using var y = net.Call(x);
        string prefix = Path.Combine(dir, "model");
        var (symbolFile, paramsFile) = net.Export(prefix);
        var imported = SymbolBlock.Imports(symbolFile, ["data"], paramsFile);
        using var z = imported.Call(x);
        z.Shape.ShouldBe(y.Shape);
        z.ToArray().ShouldBe(y.ToArray(), "the imported block computes exactly what the exported one did");
        imported.Hybridize();
        using var h = imported.Call(x);
        h.ToArray().ShouldBe(y.ToArray(), "hybridized, the imported block agrees exactly too");
        using var json = JsonDocument.Parse(File.ReadAllText(symbolFile));
        return json.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.Clone()).ToList();
    }

    private static Dictionary<string, string> Attrs(JsonElement node) =>
        node.GetProperty("attrs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    [Test]
    public void GeneratorWithConv2DTransposeRoundTrips()
    {
        var net = new HybridSequential();
        net.Add(new Conv2DTranspose(6, 4, useBias: false), new BatchNorm(), new Activation("relu"),
            new Conv2DTranspose(3, 4, strides: 2, padding: 1, outputPadding: 1, groups: 3), new Activation("tanh"),
            new GlobalMaxPool2D());
        var nodes = RoundTrip(net, [2, 5, 1, 1]);
        var deconv = nodes.Where(n => n.GetProperty("op").GetString() == "Deconvolution").ToList();
        deconv.Count.ShouldBe(2);
        var first = Attrs(deconv[0]);
        first["kernel"].ShouldBe("(4, 4)");
        first["num_filter"].ShouldBe("6");
        first["no_bias"].ShouldBe("True");
        first["layout"].ShouldBe("NCHW");
        var second = Attrs(deconv[1]);
        second["adj"].ShouldBe("(1, 1)");
        second["stride"].ShouldBe("(2, 2)");
        second["num_group"].ShouldBe("3");
        second["num_filter"].ShouldBe("3");
        second["no_bias"].ShouldBe("False");
        nodes.Where(n => n.GetProperty("op").GetString() == "null").Select(n => n.GetProperty("name").GetString())
            .ShouldContain("conv1_bias");
    }

    [Test]
    public void VolumetricNetRoundTrips()
    {
        var net = new HybridSequential();
        net.Add(new Conv3D(4, 3, padding: 1, activation: "relu"), new MaxPool3D(2),
            new Conv3DTranspose(2, 2, strides: 2, useBias: false), new AvgPool3D(3, 2, 1, ceilMode: true,
                countIncludePad: false), new GlobalAvgPool3D(), new Flatten(), new Dense(3));
        var nodes = RoundTrip(net, [2, 3, 4, 6, 5]);
        var ops = nodes.Select(n => n.GetProperty("op").GetString()).Where(o => o != "null").ToList();
        ops.ShouldBe(["Convolution", "Activation", "Pooling", "Deconvolution", "Pooling", "Pooling", "Reshape",
            "FullyConnected"]);
        var conv = Attrs(nodes.First(n => n.GetProperty("op").GetString() == "Convolution"));
        conv["kernel"].ShouldBe("(3, 3, 3)");
        conv["layout"].ShouldBe("NCDHW");
        var pools = nodes.Where(n => n.GetProperty("op").GetString() == "Pooling").Select(Attrs).ToList();
        pools[0]["kernel"].ShouldBe("(2, 2, 2)");
        pools[0]["layout"].ShouldBe("NCDHW");
        pools[1]["pooling_convention"].ShouldBe("full");
        pools[1]["count_include_pad"].ShouldBe("False");
        pools[2]["global_pool"].ShouldBe("True");
    }

    [Test]
    public void OneDimensionalNetRoundTrips()
    {
        var net = new HybridSequential();
        net.Add(new Conv1DTranspose(4, 3, strides: 2, padding: 1, outputPadding: 1, dilation: 2),
            new MaxPool1D(3, 2, 1), new AvgPool1D(2, ceilMode: true), new GlobalMaxPool1D());
        var nodes = RoundTrip(net, [2, 3, 9]);
        var deconv = Attrs(nodes.First(n => n.GetProperty("op").GetString() == "Deconvolution"));
        deconv["layout"].ShouldBe("NCW");
        deconv["dilate"].ShouldBe("(2,)");
        deconv["adj"].ShouldBe("(1,)");
        nodes.Where(n => n.GetProperty("op").GetString() == "Pooling").Select(n => Attrs(n)["layout"])
            .ShouldAllBe(l => l == "NCW");
    }

    /// <summary>
    /// A Deconvolution node as MXNet writes it: no no_bias attribute (the operator default is True, so there is no
    /// bias input), a target_shape that picks pad and adj, the weight's shape inferred from num_filter and kernel.
    /// </summary>
    [Test]
    public void MXNetDeconvolutionImportsWithItsDefaults()
    {
        var attrs = new Dictionary<string, string>
        {
            ["kernel"] = "(3, 3)", ["stride"] = "(2, 2)", ["num_filter"] = "4", ["num_group"] = "2",
            ["target_shape"] = "(8, 9)", ["workspace"] = "512",
        };
        var symbol = Symbol.Create("Deconvolution", null, attrs, [Symbol.Var("data"), Symbol.Var("w")]);
        var block = new SymbolBlock(symbol, Symbol.Var("data"));
        block.Initialize();
        float[] xv = TestData.Uniform(new Random(3), 2 * 4 * 4 * 5);
        using var x = Nd.Array(xv, new Shape(2, 4, 4, 5));
        using (block.Call(x)) { }
        var w = block.CollectParams()["w"];
        w.Shape.ShouldBe(new Shape(4, 2, 3, 3));
        float[] wv = TestData.Uniform(new Random(4), w.Shape.Size);
        using (var value = Nd.Array(wv, w.Shape)) w.SetData(value);
        using var y = block.Call(x);
        y.Shape.ShouldBe(new Shape(2, 4, 8, 9));
        // Full extents 2 * 3 + 3 = 9 and 2 * 4 + 3 = 11: totals 1 and 2 give pad (1, 1) and adj (1, 0).
        var (expected, shape) = ConvolutionNdReference.ConvTranspose(xv.Select(v => (double)v).ToArray(),
            [2, 4, 4, 5], wv.Select(v => (double)v).ToArray(), [4, 2, 3, 3], null, [2, 2], [1, 1], [1, 0], [1, 1],
            2);
        shape.ShouldBe([2, 4, 8, 9]);
        TensorAssert.AllClose(y.ToArray<float>(), expected.Select(v => (float)v).ToArray(), new Tolerance(1e-5, 1e-6),
            "imported Deconvolution");
    }
}
