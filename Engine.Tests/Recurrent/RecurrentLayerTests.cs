using Engine.Gluon;
using Engine.Gluon.Rnn;
using Engine.IO;
using Engine.Kernels;
using Engine.Tests.Support;

namespace Engine.Tests.Recurrent;

/// <summary>The Gluon RNN, LSTM and GRU layers: MXNet's names and shapes, PyTorch goldens, hybridize, export.</summary>
public class RecurrentLayerTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        Block.ResetNameCounters();
        dir = Path.Combine(Path.GetTempPath(), "engine-rnn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private static NDArray Array(NpyArray a) => Nd.Array(a.ToFloat32(), a.Shape);

    internal static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    internal static RecurrentLayer Layer(RnnMode mode, int hidden, int layers, bool bidirectional,
        string layout = "TNC", int inputSize = 0) => mode switch
    {
        RnnMode.Lstm => new LSTM(hidden, layers, layout, bidirectional: bidirectional, inputSize: inputSize),
        RnnMode.Gru => new GRU(hidden, layers, layout, bidirectional: bidirectional, inputSize: inputSize),
        RnnMode.RnnTanh => new RNN(hidden, layers, "tanh", layout, bidirectional: bidirectional, inputSize: inputSize),
        _ => new RNN(hidden, layers, "relu", layout, bidirectional: bidirectional, inputSize: inputSize),
    };

    [Test]
    public void ParameterNamesAndShapesAreMXNets()
    {
        var lstm = new LSTM(5, numLayers: 2, bidirectional: true, inputSize: 3);
        lstm.Name.ShouldBe("lstm0");
        var names = lstm.CollectParams().Keys.ToList();
        names.ShouldBe([
            "lstm0_l0_i2h_weight", "lstm0_l0_h2h_weight", "lstm0_l0_i2h_bias", "lstm0_l0_h2h_bias",
            "lstm0_r0_i2h_weight", "lstm0_r0_h2h_weight", "lstm0_r0_i2h_bias", "lstm0_r0_h2h_bias",
            "lstm0_l1_i2h_weight", "lstm0_l1_h2h_weight", "lstm0_l1_i2h_bias", "lstm0_l1_h2h_bias",
            "lstm0_r1_i2h_weight", "lstm0_r1_h2h_weight", "lstm0_r1_i2h_bias", "lstm0_r1_h2h_bias",
        ]);
        lstm["l0_i2h_weight"].Shape.ShouldBe(new Shape(20, 3));
        lstm["r0_h2h_weight"].Shape.ShouldBe(new Shape(20, 5));
        lstm["l1_i2h_weight"].Shape.ShouldBe(new Shape(20, 10));
        lstm["r1_h2h_bias"].Shape.ShouldBe(new Shape(20));
        var gru = new GRU(4, inputSize: 2);
        gru.Name.ShouldBe("gru0");
        gru.CollectParams().Keys.ShouldBe(["gru0_l0_i2h_weight", "gru0_l0_h2h_weight", "gru0_l0_i2h_bias",
            "gru0_l0_h2h_bias"]);
        gru["l0_i2h_weight"].Shape.ShouldBe(new Shape(12, 2));
        var rnn = new RNN(6, activation: "tanh");
        rnn.Name.ShouldBe("rnn0");
        rnn["l0_i2h_weight"].Shape.ShouldBe(new Shape(6, 0));
        rnn["l0_h2h_weight"].Shape.ShouldBe(new Shape(6, 6));
        rnn.ToString().ShouldBe("RNN(None -> 6, TNC)");
        lstm.ToString().ShouldBe("LSTM(3 -> 5, TNC, num_layers=2, bidirectional)");
    }

    /// <summary>The layer with PyTorch's parameters (set by MXNet name) gives PyTorch's results.</summary>
    [TestCaseSource(typeof(RnnGoldenTests), nameof(RnnGoldenTests.Cases))]
    public void LayerMatchesPyTorch(string name)
    {
        foreach (string layout in new[] { "TNC", "NTC" })
        {
            using var scope = NDArray.Scope();
            var g = Golden.Load("rnn", name);
            var mode = RnnGoldenTests.Mode(g.Attrs.GetProperty("mode").GetString()!);
            int hidden = g.Attrs.GetProperty("hidden").GetInt32(), layers = g.Attrs.GetProperty("layers").GetInt32();
            bool bi = g.Attrs.GetProperty("bidirectional").GetBoolean();
            var layer = Layer(mode, hidden, layers, bi, layout);
            layer.Initialize();
            var x = Array(g["x"]);
            if (layout == "NTC") x = x.Transpose(1, 0, 2).Copy();
            var states = mode == RnnMode.Lstm ? new[] { Array(g["h0"]), Array(g["c0"]) } : [Array(g["h0"])];
            // Deferred input size: the first call fixes it; then the golden values replace the random ones.
            layer.Call(x, layer.BeginState(x.Shape[layout == "NTC" ? 0 : 1]));
            foreach (var p in RnnGoldenTests.FlatOrder(layers, bi)) layer[p].SetData(Array(g[p]));
            x.AttachGrad();
            NDArray y;
            NDArray[] final;
            using (Engine.Autograd.Record()) (y, final) = layer.Call(x, states);
            var dy = Array(g["dy"]);
            if (layout == "NTC") dy = dy.Transpose(1, 0, 2).Copy();
            var heads = new List<NDArray> { dy, Array(g["dhy"]) };
            if (mode == RnnMode.Lstm) heads.Add(Array(g["dcy"]));
            Engine.Autograd.Backward([y, .. final], heads);
            var expectedY = Array(g["y"]);
            if (layout == "NTC") expectedY = expectedY.Transpose(1, 0, 2).Copy();
            var tol = Tolerances.Golden;
            TensorAssert.AllClose(y.ToArray<float>(), expectedY.ToArray<float>(), tol, $"{name} {layout} y");
            TensorAssert.AllClose(final[0].ToArray<float>(), g["hy"].ToFloat32(), tol, $"{name} {layout} hy");
            var dx = g["dx"].ToFloat32();
            var dxExpected = layout == "NTC"
                ? Nd.Array(dx, g["dx"].Shape).Transpose(1, 0, 2).Copy().ToArray<float>() : dx;
            TensorAssert.AllClose(x.Grad!.ToArray<float>(), dxExpected, tol, $"{name} {layout} dx");
            foreach (var p in RnnGoldenTests.FlatOrder(layers, bi))
                TensorAssert.AllClose(layer[p].Grad().ToArray<float>(), g["grad_" + p].ToFloat32(), tol,
                    $"{name} {layout} d{p}");
        }
    }

    [TestCase(RnnMode.Lstm)]
    [TestCase(RnnMode.Gru)]
    [TestCase(RnnMode.RnnRelu)]
    public void HybridizedEqualsImperative(RnnMode mode)
    {
        RandomState.Seed(11);
        var imperative = Layer(mode, 6, 2, true, "NTC");
        imperative.Initialize();
        var hybrid = Layer(mode, 6, 2, true, "NTC");
        hybrid.Initialize();
        using var x = Input(1, 3, 4, 5);
        imperative.Call(x).Dispose();
        hybrid.Call(x).Dispose();
        foreach (var (key, p) in imperative.CollectParams())
            hybrid.CollectParams()[key.Replace(imperative.Prefix, hybrid.Prefix)].SetData(p.Data());
        hybrid.Hybridize();
        foreach (var withStates in new[] { false, true })
        {
            var states = withStates ? imperative.BeginState(3).Select(s => s + 0.25f).ToArray() : [];
            NDArray[] a, b;
            using (Engine.Autograd.Record())
            {
                a = imperative.CallMany([x, .. states]);
                b = hybrid.CallMany([x, .. states]);
            }
            a.Length.ShouldBe(withStates ? 1 + imperative.StateCount : 1);
            b.Length.ShouldBe(a.Length);
            for (int k = 0; k < a.Length; k++)
                TensorAssert.AllClose(b[k].ToArray<float>(), a[k].ToArray<float>(), Tolerances.Float32Sum(64),
                    $"{mode} output {k} (states given: {withStates})");
            Engine.Autograd.Backward(a);
            Engine.Autograd.Backward(b);
            foreach (var (key, p) in imperative.CollectParams())
            {
                var q = hybrid.CollectParams()[key.Replace(imperative.Prefix, hybrid.Prefix)];
                TensorAssert.AllClose(q.Grad().ToArray<float>(), p.Grad().ToArray<float>(), Tolerances.Float32Sum(64),
                    $"{mode} d{key}");
            }
        }
        hybrid.CachedGraph!.ToString().ShouldContain("rnn");
    }

    [Test]
    public void ExportWritesTheRnnOpAndImportsBack()
    {
        var lstm = new LSTM(4, numLayers: 2, bidirectional: true);
        lstm.Initialize();
        lstm.Hybridize();
        using var x = Input(2, 5, 3, 6);
        using var y = lstm.Call(x);
        var (symbolFile, paramsFile) = lstm.Export(Path.Combine(dir, "lstm"));
        string json = File.ReadAllText(symbolFile);
        json.ShouldContain("\"op\": \"RNN\"");
        json.ShouldContain("\"op\": \"_rnn_param_concat\"");
        json.ShouldContain("\"mode\": \"lstm\"");
        json.ShouldContain("\"name\": \"lstm0_l1_h2h_weight\"");
        var keys = MXNetParams.Load(paramsFile).Select(kv => kv.Key).ToList();
        keys.ShouldContain("arg:lstm0_r0_i2h_bias");
        var imported = SymbolBlock.Imports(symbolFile, ["data"], paramsFile);
        using var z = imported.Call(x);
        TensorAssert.AllClose(z.ToArray<float>(), y.ToArray<float>(), Tolerances.Float32Sum(16), "imported LSTM");
        Graphs.ExportCheckerTests.RequirePython();
        var (code, output) = Graphs.ExportCheckerTests.RunChecker(symbolFile, paramsFile);
        output.Trim().ShouldBe("ok");
        code.ShouldBe(0);
    }

    [Test]
    public void ExportWithStatesNamesTheStateOutputs()
    {
        var gru = new GRU(3, inputSize: 2);
        gru.Initialize();
        gru.Hybridize();
        using var x = Input(1, 4, 2, 2);
        var (y, states) = gru.Call(x, gru.BeginState(2));
        var (symbolFile, paramsFile) = gru.Export(Path.Combine(dir, "gru"));
        string json = File.ReadAllText(symbolFile);
        json.ShouldContain("\"state_outputs\": \"True\"");
        var imported = SymbolBlock.Imports(symbolFile, ["data0", "data1"], paramsFile);
        var outputs = imported.CallMany(x, gru.BeginState(2)[0]);
        outputs.Length.ShouldBe(2);
        TensorAssert.AllClose(outputs[1].ToArray<float>(), states[0].ToArray<float>(), Tolerances.Float32Sum(8),
            "imported final state");
        y.Dispose();
    }

    [Test]
    public void SaveAndLoadParametersUseMXNetsAttributeNames()
    {
        var gru = new GRU(3, numLayers: 2, inputSize: 2);
        gru.Initialize();
        string path = Path.Combine(dir, "gru.params");
        gru.SaveParameters(path);
        var keys = MXNetParams.Load(path).Select(kv => kv.Key).ToList();
        keys.ShouldBe(["l0_i2h_weight", "l0_h2h_weight", "l0_i2h_bias", "l0_h2h_bias", "l1_i2h_weight",
            "l1_h2h_weight", "l1_i2h_bias", "l1_h2h_bias"]);
        var other = new GRU(3, numLayers: 2, inputSize: 2);
        other.Initialize();
        other.LoadParameters(path);
        other["l1_h2h_weight"].Data().ToArray<float>().ShouldBe(gru["l1_h2h_weight"].Data().ToArray<float>());
    }

    [Test]
    public void BadArgumentsNameTheLayerAndTheFix()
    {
        Should.Throw<ArgumentException>(() => new LSTM(4, layout: "NCT")).Message.ShouldContain("'TNC' or 'NTC'");
        Should.Throw<ArgumentException>(() => new RNN(4, activation: "sigmoid")).Message.ShouldContain("LSTM or GRU");
        Should.Throw<ArgumentOutOfRangeException>(() => new GRU(0)).Message.ShouldContain("hidden_size");
        Should.Throw<ArgumentOutOfRangeException>(() => new GRU(3, dropout: 1)).Message.ShouldContain("dropout");
        var lstm = new LSTM(4, inputSize: 3);
        lstm.Initialize();
        using var x = Input(1, 5, 2, 3);
        var e = Should.Throw<ArgumentException>(() => lstm.Call(Input(1, 5, 2, 7)));
        e.Message.ShouldContain("lstm0");
        e.Message.ShouldContain("input_size 3");
        Should.Throw<ArgumentException>(() => lstm.Call(Input(1, 5, 3))).Message.ShouldContain("3-D");
        e = Should.Throw<ArgumentException>(() => lstm.Call(x, lstm.BeginState(2)[..1]));
        e.Message.ShouldContain("expects 2 state array(s)");
        e = Should.Throw<ArgumentException>(() => lstm.Call(x, lstm.BeginState(3)));
        e.Message.ShouldContain("Invalid recurrent state shape. Expecting (1, 2, 4), got (1, 3, 4)");
        using var ints = Nd.Zeros(new Shape(5, 2, 3), DType.Int32);
        Should.Throw<ArgumentException>(() => lstm.Call(ints)).Message.ShouldContain("float32 or float64");
        var deferred = new LSTM(4);
        Should.Throw<Exception>(() => deferred.Call(x)).Message.ShouldContain("lstm1_l0_i2h_weight");
    }

    [Test]
    public void DropoutBetweenLayersActsOnlyWhileTraining()
    {
        RandomState.Seed(5);
        var lstm = new LSTM(8, numLayers: 2, dropout: 0.5);
        lstm.Initialize();
        using var x = Input(3, 4, 2, 3);
        var predict = lstm.Call(x).ToArray<float>();
        lstm.Call(x).ToArray<float>().ShouldBe(predict);
        float[] train1, train2;
        using (Engine.Autograd.Record()) train1 = lstm.Call(x).ToArray<float>();
        using (Engine.Autograd.Record()) train2 = lstm.Call(x).ToArray<float>();
        train1.ShouldNotBe(predict);
        train1.ShouldNotBe(train2);
    }
}
