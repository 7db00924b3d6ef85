using Engine.Gluon;
using Engine.Gluon.Rnn;
using Engine.Kernels;
using Engine.Tests.Support;

namespace Engine.Tests.Recurrent;

/// <summary>
/// The recurrent cells: MXNet's names and shapes, the fused layers against the same network unrolled from cells
/// with the same parameters (outputs and every gradient), and the modifier cells' behaviour.
/// </summary>
public class RecurrentCellTests
{
    [SetUp]
    public void SetUp() => Block.ResetNameCounters();

    private static NDArray Input(int seed, params int[] shape) => RecurrentLayerTests.Input(seed, shape);

    private static RecurrentCell Cell(RnnMode mode, int hidden) => mode switch
    {
        RnnMode.Lstm => new LSTMCell(hidden),
        RnnMode.Gru => new GRUCell(hidden),
        RnnMode.RnnTanh => new RNNCell(hidden, "tanh"),
        _ => new RNNCell(hidden, "relu"),
    };

    [Test]
    public void ParameterNamesAndShapesAreMXNets()
    {
        var lstm = new LSTMCell(5, inputSize: 3);
        lstm.CollectParams().Keys.ShouldBe(["lstm0_i2h_weight", "lstm0_h2h_weight", "lstm0_i2h_bias",
            "lstm0_h2h_bias"]);
        lstm.I2HWeight.Shape.ShouldBe(new Shape(20, 3));
        lstm.H2HWeight.Shape.ShouldBe(new Shape(20, 5));
        new GRUCell(4).I2HWeight.Shape.ShouldBe(new Shape(12, 0));
        var rnn = new RNNCell(6);
        rnn.Name.ShouldBe("rnn0");
        rnn.H2HBias.Shape.ShouldBe(new Shape(6));
        lstm.StateInfo(7).ShouldBe([new Shape(7, 5), new Shape(7, 5)]);
        rnn.StateInfo(2).ShouldBe([new Shape(2, 6)]);
    }

    /// <summary>
    /// The fused layer and a SequentialRNNCell of (Bidirectional) cells holding the layer's parameters agree on the
    /// output, the final states and the gradients of the input and of every parameter.
    /// </summary>
    [TestCase(RnnMode.Lstm, true)]
    [TestCase(RnnMode.Gru, true)]
    [TestCase(RnnMode.RnnTanh, false)]
    [TestCase(RnnMode.RnnRelu, true)]
    public void FusedLayerEqualsUnrolledCells(RnnMode mode, bool bidirectional)
    {
        const int hidden = 5, layers = 2, seq = 4, batch = 3, features = 6;
        RandomState.Seed(2);
        var layer = RecurrentLayerTests.Layer(mode, hidden, layers, bidirectional, "NTC");
        layer.Initialize();
        var stack = new SequentialRNNCell();
        var pairs = new List<(Parameter Fused, Parameter Cell)>();
        for (int l = 0; l < layers; l++)
        {
            var forward = (ProjectionCell)Cell(mode, hidden);
            if (!bidirectional)
            {
                stack.Add(forward);
            }
            else
            {
                var backward = (ProjectionCell)Cell(mode, hidden);
                stack.Add(new BidirectionalCell(forward, backward));
                pairs.AddRange(Pairs(layer, $"r{l}", backward));
            }
            pairs.AddRange(Pairs(layer, $"l{l}", forward));
        }
        stack.Initialize();
        using var x = Input(4, batch, seq, features);
        layer.Call(x).Dispose();
        stack.Unroll(seq, x).Outputs[0].Dispose();
        foreach (var (fused, cell) in pairs) cell.SetData(fused.Data());

        var xl = x.Copy();
        var xc = x.Copy();
        xl.AttachGrad();
        xc.AttachGrad();
        var begin = layer.BeginState(batch).Select((s, k) => s + (0.1f * (k + 1))).ToArray();
        // The layer's states are (layers * directions, batch, hidden); the cells' one (batch, hidden) per cell.
        var cellBegin = CellStates(begin, layers * (bidirectional ? 2 : 1), mode == RnnMode.Lstm);
        NDArray yl, yc;
        NDArray[] sl, sc;
        using (Engine.Autograd.Record())
        {
            (yl, sl) = layer.Call(xl, begin);
            var (outs, states) = stack.Unroll(seq, xc, cellBegin, "NTC", mergeOutputs: true);
            (yc, sc) = (outs[0], states);
        }
        var tol = Tolerances.Float32Sum(64);
        TensorAssert.AllClose(yc.ToArray<float>(), yl.ToArray<float>(), tol, $"{mode} output");
        var fusedStates = CellStates(sl, layers * (bidirectional ? 2 : 1), mode == RnnMode.Lstm);
        for (int k = 0; k < sc.Length; k++)
            TensorAssert.AllClose(sc[k].ToArray<float>(), fusedStates[k].ToArray<float>(), tol, $"{mode} state {k}");
        using var head = Input(9, yl.Shape.ToArray());
        Engine.Autograd.Backward([yl], [head]);
        Engine.Autograd.Backward([yc], [head]);
        TensorAssert.AllClose(xc.Grad!.ToArray<float>(), xl.Grad!.ToArray<float>(), tol, $"{mode} dx");
        foreach (var (fused, cell) in pairs)
            TensorAssert.AllClose(cell.Grad().ToArray<float>(), fused.Grad().ToArray<float>(), tol,
                $"{mode} d{fused.Name}");
    }

    private static IEnumerable<(Parameter, Parameter)> Pairs(RecurrentLayer layer, string slot, ProjectionCell cell) =>
    [
        (layer[slot + "_i2h_weight"], cell.I2HWeight), (layer[slot + "_h2h_weight"], cell.H2HWeight),
        (layer[slot + "_i2h_bias"], cell.I2HBias), (layer[slot + "_h2h_bias"], cell.H2HBias),
    ];

    /// <summary>Per-cell states from the layer's: cell k (forward and backward per layer) holds slice k.</summary>
    private static NDArray[] CellStates(NDArray[] layerStates, int slots, bool lstm)
    {
        var h = Nd.Split(layerStates[0], slots, 0).Select(s => s.Reshape(s.Shape[1], s.Shape[2])).ToArray();
        if (!lstm) return h;
        var c = Nd.Split(layerStates[1], slots, 0).Select(s => s.Reshape(s.Shape[1], s.Shape[2])).ToArray();
        return h.Zip(c).SelectMany(p => new[] { p.First, p.Second }).ToArray();
    }

    [Test]
    public void UnrollMergedAndPerStepAgreeInBothLayouts()
    {
        var cell = new GRUCell(4);
        cell.Initialize();
        using var x = Input(1, 2, 3, 5);
        var (merged, states) = cell.Unroll(3, x, layout: "NTC");
        merged.Length.ShouldBe(1);
        merged[0].Shape.ShouldBe(new Shape(2, 3, 4));
        var (steps, states2) = cell.Unroll(3, x, layout: "NTC", mergeOutputs: false);
        steps.Length.ShouldBe(3);
        for (int t = 0; t < 3; t++)
            steps[t].ToArray<float>().ShouldBe(merged[0].Transpose(1, 0, 2).Copy().ToArray<float>()
                .Skip(t * 8).Take(8).ToArray());
        states2[0].ToArray<float>().ShouldBe(states[0].ToArray<float>());
        var (tnc, _) = cell.Unroll(3, x.Transpose(1, 0, 2).Copy(), layout: "TNC");
        tnc[0].Shape.ShouldBe(new Shape(3, 2, 4));
        tnc[0].ToArray<float>().ShouldBe(merged[0].Transpose(1, 0, 2).Copy().ToArray<float>());
    }

    [Test]
    public void ResidualCellAddsTheInput()
    {
        var inner = new RNNCell(4, inputSize: 4);
        var residual = new ResidualCell(inner);
        residual.Initialize();
        using var x = Input(3, 2, 4);
        var states = residual.BeginState(2);
        var (plain, _) = inner.Call(x, states);
        var (added, next) = residual.Call(x, states);
        TensorAssert.AllClose(added.ToArray<float>(), (plain + x).ToArray<float>(), Tolerances.Exact, "residual");
        next.Length.ShouldBe(1);
        residual.CollectParams().Keys.ShouldBe(["rnn0_i2h_weight", "rnn0_h2h_weight", "rnn0_i2h_bias",
            "rnn0_h2h_bias"]);
        var bad = new ResidualCell(new RNNCell(3));
        bad.Initialize();
        Should.Throw<ArgumentException>(() => bad.Call(x, bad.BeginState(2))).Message.ShouldContain("same shape");
    }

    [Test]
    public void DropoutAndZoneoutActOnlyWhileTraining()
    {
        RandomState.Seed(8);
        var dropout = new DropoutCell(0.5);
        using var x = Input(2, 50, 40);
        dropout.Call(x, []).Output.ToArray<float>().ShouldBe(x.ToArray<float>());
        float[] dropped;
        using (Engine.Autograd.Record()) dropped = dropout.Call(x, []).Output.ToArray<float>();
        dropped.Count(v => v == 0).ShouldBeInRange(800, 1200);

        var inner = new LSTMCell(6);
        var zoneout = new ZoneoutCell(inner, zoneoutOutputs: 0.5, zoneoutStates: 0.5);
        zoneout.Initialize();
        var states = zoneout.BeginState(50);
        var (expected, expectedStates) = inner.Call(x, states);
        var (output, kept) = zoneout.Call(x, states);
        output.ToArray<float>().ShouldBe(expected.ToArray<float>());
        kept[1].ToArray<float>().ShouldBe(expectedStates[1].ToArray<float>());
        zoneout.Reset();
        float[] zoned;
        using (Engine.Autograd.Record()) zoned = zoneout.Call(x, states).Output.ToArray<float>();
        var full = expected.ToArray<float>();
        int keptOld = 0;
        for (int i = 0; i < zoned.Length; i++)
        {
            if (zoned[i] == 0 && full[i] != 0) keptOld++;
            else zoned[i].ShouldBe(full[i]);
        }
        keptOld.ShouldBeInRange(100, 200);
        Should.Throw<ArgumentException>(() => new ZoneoutCell(new BidirectionalCell(new GRUCell(2), new GRUCell(2))));
    }

    [Test]
    public void CellsValidateTheirInputs()
    {
        var bi = new BidirectionalCell(new LSTMCell(3), new LSTMCell(3));
        bi.Initialize();
        using var x = Input(1, 2, 4);
        Should.Throw<NotSupportedException>(() => bi.Call(x, bi.BeginState(2))).Message.ShouldContain("Unroll");
        var cell = new LSTMCell(3, inputSize: 4);
        cell.Initialize();
        var e = Should.Throw<ArgumentException>(() => cell.Call(x, cell.BeginState(2)[..1]));
        e.Message.ShouldContain("lstm2");
        e.Message.ShouldContain("expects 2 state array(s)");
        e = Should.Throw<ArgumentException>(() => cell.Call(Input(1, 2, 5), cell.BeginState(2)));
        e.Message.ShouldContain("input_size 4");
        e = Should.Throw<ArgumentException>(() => cell.Call(x, cell.BeginState(3)));
        e.Message.ShouldContain("Invalid recurrent state shape");
        Should.Throw<ArgumentException>(() => cell.Call(Input(1, 2, 3, 4), cell.BeginState(2)))
            .Message.ShouldContain("Unroll");
        Should.Throw<ArgumentException>(() => cell.Unroll(5, Input(1, 2, 3, 4))).Message.ShouldContain("5 on axis 1");
        Should.Throw<ArgumentException>(() => new RNNCell(3, "sigmoid")).Message.ShouldContain("tanh");
    }

    [Test]
    public void HybridizedCellEqualsImperative()
    {
        var cell = new LSTMCell(4);
        cell.Initialize();
        using var x = Input(5, 3, 6);
        var states = cell.BeginState(3).Select(s => s + 0.3f).ToArray();
        var (y, s1) = cell.Call(x, states);
        cell.Hybridize();
        var (z, s2) = cell.Call(x, states);
        TensorAssert.AllClose(z.ToArray<float>(), y.ToArray<float>(), Tolerances.Float32Sum(16), "hybridized h");
        TensorAssert.AllClose(s2[1].ToArray<float>(), s1[1].ToArray<float>(), Tolerances.Float32Sum(16), "c");
        cell.CachedGraph.ShouldNotBeNull();
    }
}
