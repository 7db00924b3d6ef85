using Engine.Gluon;
using Engine.Graphs;
using Engine.IO;
using Engine.Tests.Support;

namespace Engine.Tests.Graphs;

/// <summary>
/// Symbol JSON written by hand exactly as MXNet 1.x and 0.8 write it, imported and run against a naive reference
/// (MXNet's operator defaults included: BatchNorm eps 1e-3 and fix_gamma True, 'full' pooling); bad files give
/// errors that name the node, the operator and the file.
/// </summary>
public class MXNetFilesTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        dir = Path.Combine(Path.GetTempPath(), "engine-mxnet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    // conv (2 -> 2, 3x3, pad 1) -> BatchNorm (MXNet defaults) -> relu -> max pool 2/2 'full' -> Flatten ->
    // FullyConnected(3) -> SoftmaxOutput, as MXNet 1.9 writes it (aux inputs carry version 1, BatchNorm 3 outputs;
    // long nodes wrapped at 120 columns, which JSON ignores).
    private const string Version1Json = """
    {
      "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "null", "name": "conv_weight", "attrs": {"__dtype__": "0", "__lr_mult__": "1.0",
          "__shape__": "(2, 0, 3, 3)", "__storage_type__": "0", "__wd_mult__": "1.0"}, "inputs": []},
        {"op": "null", "name": "conv_bias", "attrs": {"__init__": "zeros", "__shape__": "(2,)"}, "inputs": []},
        {"op": "Convolution", "name": "conv", "attrs": {"cudnn_off": "False", "cudnn_tune": "None", "dilate": "(1, 1)",
          "kernel": "(3, 3)", "layout": "NCHW", "no_bias": "False", "num_filter": "2", "num_group": "1",
          "pad": "(1, 1)", "stride": "(1, 1)", "workspace": "1024"}, "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]},
        {"op": "null", "name": "bn_gamma", "inputs": []},
        {"op": "null", "name": "bn_beta", "inputs": []},
        {"op": "null", "name": "bn_moving_mean", "attrs": {"__init__": "[\"zero\", {}]"}, "inputs": []},
        {"op": "null", "name": "bn_moving_var", "attrs": {"__init__": "[\"one\", {}]"}, "inputs": []},
        {"op": "BatchNorm", "name": "bn", "inputs": [[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]},
        {"op": "Activation", "name": "relu", "attrs": {"act_type": "relu"}, "inputs": [[8, 0, 0]]},
        {"op": "Pooling", "name": "pool", "attrs": {"kernel": "(2, 2)", "pool_type": "max",
          "pooling_convention": "full", "stride": "(2, 2)"}, "inputs": [[9, 0, 0]]},
        {"op": "Flatten", "name": "flatten", "inputs": [[10, 0, 0]]},
        {"op": "null", "name": "fc_weight", "attrs": {"__shape__": "(3, 0)"}, "inputs": []},
        {"op": "null", "name": "fc_bias", "inputs": []},
        {"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "3"},
          "inputs": [[11, 0, 0], [12, 0, 0], [13, 0, 0]]},
        {"op": "null", "name": "softmax_label", "inputs": []},
        {"op": "SoftmaxOutput", "name": "softmax", "attrs": {"grad_scale": "1.0", "normalization": "null"},
          "inputs": [[14, 0, 0], [15, 0, 0]]}
      ],
      "arg_nodes": [0, 1, 2, 4, 5, 6, 7, 12, 13, 15],
      "node_row_ptr": [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      "heads": [[16, 0, 0]],
      "attrs": {"mxnet_version": ["int", 10901]}
    }
    """;

    // The same network as MXNet 0.8 wrote it: "param" with every default filled in, "attr", two-element inputs,
    // no mxnet_version, and BatchNorm without its moving statistics as inputs.
    private const string Version08Json = """
    {
      "nodes": [
        {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "conv_weight", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "conv_bias", "inputs": [], "backward_source_id": -1},
        {"op": "Convolution", "param": {"cudnn_off": "False", "cudnn_tune": "off", "dilate": "(1,1)", "kernel": "(3,3)",
          "no_bias": "False", "num_filter": "2", "num_group": "1", "pad": "(1,1)", "stride": "(1,1)",
          "workspace": "512"}, "name": "conv", "inputs": [[0, 0], [1, 0], [2, 0]], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "bn_gamma", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "bn_beta", "inputs": [], "backward_source_id": -1},
        {"op": "BatchNorm", "param": {"eps": "0.001", "fix_gamma": "True", "momentum": "0.9",
          "use_global_stats": "False"}, "name": "bn", "inputs": [[3, 0], [4, 0], [5, 0]], "backward_source_id": -1},
        {"op": "Activation", "param": {"act_type": "relu"}, "name": "relu", "inputs": [[6, 0]],
          "backward_source_id": -1},
        {"op": "Pooling", "param": {"kernel": "(2,2)", "pad": "(0,0)", "pool_type": "max", "pooling_convention": "full",
          "stride": "(2,2)"}, "name": "pool", "inputs": [[7, 0]], "backward_source_id": -1},
        {"op": "Flatten", "param": {}, "name": "flatten", "inputs": [[8, 0]], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "fc_weight", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "fc_bias", "inputs": [], "backward_source_id": -1},
        {"op": "FullyConnected", "param": {"no_bias": "False", "num_hidden": "3"}, "attr": {"lr_mult": "2.0"},
          "name": "fc", "inputs": [[9, 0], [10, 0], [11, 0]], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "softmax_label", "inputs": [], "backward_source_id": -1},
        {"op": "SoftmaxOutput", "param": {"grad_scale": "1", "ignore_label": "-1", "multi_output": "False",
          "normalization": "null", "out_grad": "False", "preserve_shape": "False", "use_ignore": "False"},
          "name": "softmax", "inputs": [[12, 0], [13, 0]], "backward_source_id": -1}
      ],
      "arg_nodes": [0, 1, 2, 4, 5, 10, 11, 13],
      "heads": [[14, 0]]
    }
    """;

    private sealed record Weights(float[] ConvW, float[] ConvB, float[] Gamma, float[] Beta, float[] Mean,
        float[] Var, float[] FcW, float[] FcB);

    private static Weights MakeWeights()
    {
        var rng = new Random(5);
        return new Weights(TestData.Uniform(rng, 36), TestData.Uniform(rng, 2),
            [0.5f, 3f], // gamma != 1: fix_gamma (MXNet's default) must ignore it
            TestData.Uniform(rng, 2), TestData.Uniform(rng, 2, -0.2f, 0.2f), TestData.Uniform(rng, 2, 0.5f, 2f),
            TestData.Uniform(rng, 3 * 18), TestData.Uniform(rng, 3));
    }

    private string WriteParams(Weights w, string auxPrefix = "aux:")
    {
        string path = Path.Combine(dir, "net-0000.params");
        var arrays = new List<KeyValuePair<string, NDArray>>
        {
            new("arg:conv_weight", Nd.Array(w.ConvW, new Shape(2, 2, 3, 3))),
            new("arg:conv_bias", Nd.Array(w.ConvB, new Shape(2))),
            new("arg:bn_gamma", Nd.Array(w.Gamma, new Shape(2))),
            new("arg:bn_beta", Nd.Array(w.Beta, new Shape(2))),
            new(auxPrefix + "bn_moving_mean", Nd.Array(w.Mean, new Shape(2))),
            new(auxPrefix + "bn_moving_var", Nd.Array(w.Var, new Shape(2))),
            new("arg:fc_weight", Nd.Array(w.FcW, new Shape(3, 18))),
            new("arg:fc_bias", Nd.Array(w.FcB, new Shape(3))),
        };
        MXNetParams.Save(path, arrays);
        foreach (var a in arrays) a.Value.Dispose();
        return path;
    }

    /// <summary>The network computed with loops, in double precision, from MXNet's definitions.</summary>
    private static double[] Reference(float[] x, Weights w)
    {
        const int c = 2, h = 5, k = 2;
        var conv = new double[k, h, h];
        for (int o = 0; o < k; o++)
        for (int i = 0; i < h; i++)
        for (int j = 0; j < h; j++)
        {
            double s = w.ConvB[o];
            for (int ci = 0; ci < c; ci++)
            for (int r = 0; r < 3; r++)
            for (int q = 0; q < 3; q++)
            {
                int yi = i + r - 1, xj = j + q - 1;
                if (yi < 0 || yi >= h || xj < 0 || xj >= h) continue;
                s += w.ConvW[((o * c + ci) * 3 + r) * 3 + q] * x[(ci * h + yi) * h + xj];
            }
            // BatchNorm at inference, gamma fixed to 1, eps 1e-3; then relu.
            double bn = (s - w.Mean[o]) / Math.Sqrt(w.Var[o] + 1e-3) + w.Beta[o];
            conv[o, i, j] = Math.Max(bn, 0);
        }
        // 'full' convention: ceil((5 - 2) / 2) + 1 = 3 windows per axis; the last one is clipped to the input.
        var flat = new double[k * 9];
        for (int o = 0; o < k; o++)
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
        {
            double m = double.NegativeInfinity;
            for (int r = 2 * i; r < Math.Min(2 * i + 2, h); r++)
            for (int q = 2 * j; q < Math.Min(2 * j + 2, h); q++)
                m = Math.Max(m, conv[o, r, q]);
            flat[o * 9 + i * 3 + j] = m;
        }
        var logits = new double[3];
        for (int u = 0; u < 3; u++)
        {
            logits[u] = w.FcB[u];
            for (int f = 0; f < 18; f++) logits[u] += w.FcW[u * 18 + f] * flat[f];
        }
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }

    private string WriteSymbol(string json, string name = "net-symbol.json")
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    [TestCase(Version1Json, "aux:")]
    [TestCase(Version08Json, "aux:")]
    [TestCase(Version08Json, "")]
    public void HandWrittenMXNetFileRunsAgainstNaiveReference(string json, string auxPrefix)
    {
        var w = MakeWeights();
        var block = SymbolBlock.Imports(WriteSymbol(json), ["data"], WriteParams(w, auxPrefix));
        var x = TestData.Uniform(new Random(8), 50);
        using var input = Nd.Array(x, new Shape(1, 2, 5, 5));
        using var y = block.Call(input);
        y.Shape.ShouldBe(new Shape(1, 3));
        var expected = Reference(x, w);
        TensorAssert.AllClose(y.ToArray(), expected.Select(v => (float)v).ToArray(), new Tolerance(1e-5, 1e-6),
            "softmax output");
        block.Symbol.ListAuxiliaryStates().ShouldBe(["bn_moving_mean", "bn_moving_var"]);
        block.Hybridize();
        using var z = block.Call(input);
        // Hybridized, BatchNorm is folded into the convolution's weights: the same values up to rounding.
        TensorAssert.AllClose(z.ToArray(), y.ToArray(), new Tolerance(1e-6, 1e-7), "hybridized softmax output");
    }

    [Test]
    public void SymbolInfersShapesAndListsLikeMXNet()
    {
        var sym = Symbol.FromJson(Version1Json);
        sym.ListArguments().ShouldBe(["data", "conv_weight", "conv_bias", "bn_gamma", "bn_beta", "fc_weight",
            "fc_bias", "softmax_label"]);
        sym.ListOutputs().ShouldBe(["softmax_output"]);
        var internals = sym.GetInternals();
        internals.ListOutputs().ShouldContain("bn_output");
        internals.ListOutputs().ShouldNotContain("bn_mean", "hidden outputs are not listed");
        internals.ListOutputs().ShouldContain("fc_output");
        var (args, outs, aux) = sym.InferShape(new Dictionary<string, Shape>
        {
            ["data"] = new Shape(4, 2, 5, 5), ["softmax_label"] = new Shape(4),
        });
        args[1].ShouldBe(new Shape(2, 2, 3, 3));
        args[5].ShouldBe(new Shape(3, 18));
        outs.Single().ShouldBe(new Shape(4, 3));
        aux.ShouldBe([new Shape(2), new Shape(2)]);
        Symbol.FromJson(sym.ToJson()).ToJson().ShouldBe(sym.ToJson(), "JSON round trips");
        sym.ToJson().ShouldContain("\"node_row_ptr\"");
    }

    [Test]
    public void UnknownOperatorNamesNodeOperatorAndFile()
    {
        string path = WriteSymbol(Version1Json.Replace("\"op\": \"Activation\"", "\"op\": \"Deconvolution\""));
        var e = Should.Throw<NotSupportedException>(() => SymbolBlock.Imports(path, ["data"]));
        e.Message.ShouldContain("'relu'");
        e.Message.ShouldContain("Deconvolution");
        e.Message.ShouldContain(path);
    }

    [Test]
    public void UnknownAttributeNamesNodeOperatorAndFile()
    {
        string path = WriteSymbol(Version1Json.Replace("\"num_hidden\": \"3\"",
            "\"num_hidden\": \"3\", \"fancy\": \"1\""));
        var e = Should.Throw<NotSupportedException>(() => SymbolBlock.Imports(path, ["data"]));
        e.Message.ShouldContain("'fc'");
        e.Message.ShouldContain("FullyConnected");
        e.Message.ShouldContain("fancy");
        e.Message.ShouldContain(path);
    }

    [Test]
    public void TruncatedFileIsAnErrorNamingIt()
    {
        string path = WriteSymbol(Version1Json[..(Version1Json.Length / 2)]);
        var e = Should.Throw<InvalidDataException>(() => SymbolBlock.Imports(path, ["data"]));
        e.Message.ShouldContain(path);
        e.Message.ShouldContain("not valid symbol JSON");
    }

    [Test]
    public void MXNet2FileIsRecognised()
    {
        string path = WriteSymbol(Version1Json.Replace("10901", "20000"));
        Should.Throw<NotSupportedException>(() => SymbolBlock.Imports(path, ["data"]))
            .Message.ShouldContain("MXNet 2.x");
        string scoped = WriteSymbol(Version1Json.Replace("\"__init__\": \"zeros\"",
            "\"__profiler_scope__\": \"<unk>:\""), "scoped-symbol.json");
        Should.Throw<NotSupportedException>(() => SymbolBlock.Imports(scoped, ["data"]))
            .Message.ShouldContain("MXNet 2.x");
    }

    [Test]
    public void MissingParameterIsNamed()
    {
        var w = MakeWeights();
        string paramsPath = WriteParams(w);
        var kept = MXNetParams.Load(paramsPath).Where(p => p.Key != "arg:fc_bias").ToList();
        MXNetParams.Save(paramsPath, kept);
        var e = Should.Throw<InvalidDataException>(() =>
            SymbolBlock.Imports(WriteSymbol(Version1Json), ["data"], paramsPath));
        e.Message.ShouldContain("fc_bias");
        e.Message.ShouldContain("allowMissing");
    }

    [Test]
    public void WithoutAParamsFileShapesAreInferredOnTheFirstCall()
    {
        var block = SymbolBlock.Imports(WriteSymbol(Version1Json), ["data"]);
        block.Initialize();
        using var x = Nd.Ones(new Shape(2, 2, 5, 5));
        using var y = block.Call(x);
        y.Shape.ShouldBe(new Shape(2, 3));
        block.CollectParams()["fc_weight"].Shape.ShouldBe(new Shape(3, 18));
    }
}
