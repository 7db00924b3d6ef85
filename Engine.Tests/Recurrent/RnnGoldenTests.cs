using Engine.IO;
using Engine.Kernels;
using Engine.Tests.Support;

namespace Engine.Tests.Recurrent;

/// <summary>
/// The fused RNN op against PyTorch's nn.RNN, nn.LSTM and nn.GRU (tools/golden/gen_rnn.py): outputs, final
/// states and the gradients of the input, the initial states and every parameter, in float32, on every device of
/// the suite (the GPU suite binds it to its device).
/// </summary>
[Category("Conformance")]
public class RnnGoldenTests(Device device) : DeviceFixture(device)
{
    public static IEnumerable<string> Cases() => Golden.CaseNames("rnn");

    [Test]
    public void GoldenCasesExist() => Cases().Count().ShouldBeGreaterThanOrEqualTo(6, "run tools/golden/gen_rnn.py");

    internal static RnnMode Mode(string name) => name switch
    {
        "lstm" => RnnMode.Lstm, "gru" => RnnMode.Gru, "rnn_tanh" => RnnMode.RnnTanh, _ => RnnMode.RnnRelu,
    };

    /// <summary>MXNet's parameter names in the order of the flat vector: every weight, then every bias.</summary>
    internal static IEnumerable<string> FlatOrder(int layers, bool bidirectional)
    {
        var slots = Enumerable.Range(0, layers)
            .SelectMany(l => bidirectional ? new[] { $"l{l}", $"r{l}" } : [$"l{l}"]).ToList();
        foreach (var s in slots)
        {
            yield return s + "_i2h_weight";
            yield return s + "_h2h_weight";
        }
        foreach (var s in slots)
        {
            yield return s + "_i2h_bias";
            yield return s + "_h2h_bias";
        }
    }

    private static NDArray Array(NpyArray a) => Nd.Array(a.ToFloat32(), a.Shape);

    [TestCaseSource(nameof(Cases))]
    public void FusedOpMatchesPyTorch(string name)
    {
        using var scope = NDArray.Scope();
        var g = Golden.Load("rnn", name);
        var mode = Mode(g.Attrs.GetProperty("mode").GetString()!);
        int hidden = g.Attrs.GetProperty("hidden").GetInt32(), layers = g.Attrs.GetProperty("layers").GetInt32();
        bool bi = g.Attrs.GetProperty("bidirectional").GetBoolean();
        var order = FlatOrder(layers, bi).ToList();
        var flat = order.SelectMany(n => g[n].ToFloat32()).ToArray();
        var x = Array(g["x"]);
        var parameters = Nd.Array(flat, new Shape(flat.Length));
        var h0 = Array(g["h0"]);
        var c0 = mode == RnnMode.Lstm ? Array(g["c0"]) : null;
        foreach (var a in new[] { x, parameters, h0, c0 }) a?.AttachGrad();
        NDArray[] outputs;
        using (Engine.Autograd.Record())
            outputs = Nd.Rnn(x, parameters, h0, c0, mode, hidden, layers, bi);
        var heads = new List<NDArray> { Array(g["dy"]), Array(g["dhy"]) };
        if (c0 is not null) heads.Add(Array(g["dcy"]));
        Engine.Autograd.Backward(outputs, heads);

        var tol = Tolerances.Golden;
        TensorAssert.AllClose(outputs[0].ToArray<float>(), g["y"].ToFloat32(), tol, name + " y");
        TensorAssert.AllClose(outputs[1].ToArray<float>(), g["hy"].ToFloat32(), tol, name + " hy");
        TensorAssert.AllClose(x.Grad!.ToArray<float>(), g["dx"].ToFloat32(), tol, name + " dx");
        TensorAssert.AllClose(h0.Grad!.ToArray<float>(), g["dh0"].ToFloat32(), tol, name + " dh0");
        if (c0 is not null)
        {
            TensorAssert.AllClose(outputs[2].ToArray<float>(), g["cy"].ToFloat32(), tol, name + " cy");
            TensorAssert.AllClose(c0.Grad!.ToArray<float>(), g["dc0"].ToFloat32(), tol, name + " dc0");
        }
        var grad = parameters.Grad!.ToArray<float>();
        int at = 0;
        foreach (var n in order)
        {
            var expected = g["grad_" + n].ToFloat32();
            TensorAssert.AllClose(grad.AsSpan(at, expected.Length), expected, tol, $"{name} d{n}");
            at += expected.Length;
        }
    }
}
