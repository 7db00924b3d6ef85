using Engine.Gluon;
using Engine.IO;
using Engine.Gluon.NN;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The activation layers end to end (layer, operator, kernel, gradient rule) against PyTorch: outputs, input
/// gradients and parameter gradients of tools/golden/gen_activation.py's cases, and gen_layout.py's
/// reflection_pad2d. (The norm layers: <see cref="NormGoldenTests"/>.)
/// </summary>
public class LayerGoldenTests
{
    private static IEnumerable<string> ActivationCases() => Golden.CaseNames("activation");

    [Test]
    public void GoldenCasesExist()
    {
        ActivationCases().Count().ShouldBe(9, "run tools/golden/gen_activation.py");
    }

    [TestCaseSource(nameof(ActivationCases))]
    public void ActivationLayerMatchesPyTorch(string name)
    {
        var g = Golden.Load("activation", name);
        string op = g.Attrs.GetProperty("op").GetString()!;
        bool f64 = name.EndsWith("_f64", StringComparison.Ordinal);
        Block layer = op switch
        {
            "elu" => new ELU(g.Attrs.GetProperty("alpha").GetDouble()),
            "selu" => new SELU(),
            "gelu" => new GELU(),
            "swish" => new Swish(g.Attrs.GetProperty("beta").GetDouble()),
            _ => new PReLU(inChannels: (int)g["alpha"].Shape.Size),
        };
        layer.Initialize();
        if (f64) layer.Cast(DType.Float64);
        var prelu = layer as PReLU;
        prelu?.Alpha.SetData(f64 ? Array64(g["alpha"]) : Array(g["alpha"]));
        using var x = f64 ? Array64(g["x"]) : Array(g["x"]);
        using var dy = f64 ? Array64(g["dy"]) : Array(g["dy"]);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = layer.Call(x);
        y.Backward(dy);
        // PyTorch's float64 GELU computes 1 + erf(x / sqrt 2), which loses digits for negative x where this
        // engine's erfc form keeps them: a relative 1e-10 covers PyTorch's loss, the absolute bound its zeros.
        var tol = f64 ? new Tolerance(1e-10, 1e-13) : Tolerances.Golden;
        TensorAssert.AllClose(y.ToArray<double>(), g["y"].ToFloat64(), tol, name + " y");
        TensorAssert.AllClose(x.Grad!.ToArray<double>(), g["dx"].ToFloat64(), tol, name + " dx");
        if (prelu is not null)
            TensorAssert.AllClose(prelu.Alpha.Grad().ToArray<double>(), g["dalpha"].ToFloat64(), tol,
                name + " dalpha");
        y.Dispose();
    }

    [Test]
    public void ReflectionPad2DMatchesPyTorch()
    {
        var g = Golden.Load("layout", "reflection_pad2d");
        int[] before = Ints(g.Attrs.GetProperty("before")), after = Ints(g.Attrs.GetProperty("after"));
        var pad = new ReflectionPad2D([0, 0, 0, 0, before[2], after[2], before[3], after[3]]);
        using var x = Array(g["x"]);
        using var dy = Array(g["dy"]);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = pad.Call(x);
        y.Backward(dy);
        TensorAssert.AllClose(y.ToArray(), g["y"].ToFloat32(), Tolerances.Golden, "y");
        TensorAssert.AllClose(x.Grad!.ToArray(), g["dx"].ToFloat32(), Tolerances.Golden, "dx");
        y.Dispose();
    }

    private static NDArray Array(NpyArray a) => Nd.Array(a.ToFloat32(), a.Shape);

    private static NDArray Array64(NpyArray a) => Nd.Array(a.ToFloat64(), a.Shape);

    private static int[] Ints(System.Text.Json.JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}
