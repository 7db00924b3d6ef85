using Engine.Gluon.NN;
using Engine.IO;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The layer, instance and group norm layers end to end (layer, operator, kernel, gradient rule) against PyTorch:
/// outputs, input gradients and parameter gradients of tools/golden/gen_norm.py's layernorm_, instancenorm_ and
/// groupnorm_ cases, on every device of <see cref="TestDevices"/> (Engine.Tests.Gpu binds them to the GPU).
/// </summary>
[Category("Conformance")]
public class NormGoldenTests(Device device) : DeviceFixture(device)
{
    private static readonly string[] NormPrefixes = ["layernorm_", "instancenorm_", "groupnorm_"];

    private static IEnumerable<string> NormCases() => Golden.CaseNames("norm")
        .Where(n => NormPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)));

    [Test]
    public void GoldenCasesExist() => NormCases().Count().ShouldBe(8, "run tools/golden/gen_norm.py");

    [TestCaseSource(nameof(NormCases))]
    public void NormLayerMatchesPyTorch(string name)
    {
        var g = Golden.Load("norm", name);
        string op = g.Attrs.GetProperty("op").GetString()!;
        double eps = g.Attrs.GetProperty("eps").GetDouble();
        SampleNormLayer layer = op switch
        {
            "layer_norm" => new LayerNorm(g.Attrs.GetProperty("axis").GetInt32(), eps),
            "instance_norm" => new InstanceNorm(epsilon: eps, scale: true),
            _ => new GroupNorm(g.Attrs.GetProperty("num_groups").GetInt32(), eps),
        };
        layer.Initialize();
        using var x = Array(g["x"]);
        using var dy = Array(g["dy"]);
        // Deferred shapes are found on the first call; set gamma and beta after it.
        layer.Call(x).Dispose();
        layer.Gamma.SetData(Array(g["gamma"]));
        layer.Beta.SetData(Array(g["beta"]));
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = layer.Call(x);
        y.Backward(dy);
        y.Device.ShouldBe(Device);
        var tol = Tolerances.Golden;
        TensorAssert.AllClose(y.ToArray(), g["y"].ToFloat32(), tol, name + " y");
        TensorAssert.AllClose(x.Grad!.ToArray(), g["dx"].ToFloat32(), tol, name + " dx");
        TensorAssert.AllClose(layer.Gamma.Grad().ToArray(), g["dgamma"].ToFloat32(), tol, name + " dgamma");
        TensorAssert.AllClose(layer.Beta.Grad().ToArray(), g["dbeta"].ToFloat32(), tol, name + " dbeta");
        y.Dispose();
    }

    private static NDArray Array(NpyArray a) => Nd.Array(a.ToFloat32(), a.Shape);
}
