using System.Text.Json;
using Engine.Gluon.Optimizers;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The optimizers against PyTorch's trajectories (Golden/optim), on every device of <see cref="TestDevices"/>: the
/// weight and gradients live on the fixture's device, so the fused update kernels of each backend are checked.
/// </summary>
[Category("Conformance")]
public class OptimizerGoldenTests(Device device) : DeviceFixture(device)
{
    private static IEnumerable<string> GoldenCases() => Golden.CaseNames("optim");

    /// <summary>PyTorch's optimizers follow the same trajectories at a constant learning rate (tools/golden).</summary>
    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorch(string name)
    {
        var golden = Golden.Load("optim", name);
        var attrs = golden.Attrs;
        string kind = name.Split('_')[0];
        var options = new Dictionary<string, object>();
        foreach (var p in attrs.EnumerateObject())
        {
            object value = p.Value.ValueKind switch
            {
                JsonValueKind.True or JsonValueKind.False => p.Value.GetBoolean(),
                _ => p.Value.GetDouble(),
            };
            options[p.Name == "lr" ? "learning_rate" : p.Name] = value;
        }
        var optimizer = Optimizer.Create(kind, options);
        var w0 = golden["w0"];
        var grads = golden["grads"].ToFloat32();
        var weights = golden["weights"].ToFloat32();
        int size = (int)w0.Shape.Size;
        using var w = Nd.Array(w0.ToFloat32(), w0.Shape);
        w.Device.ShouldBe(Device);
        for (int step = 0; step < grads.Length / size; step++)
        {
            using var g = Nd.Array(grads.AsSpan(step * size, size).ToArray(), w0.Shape);
            optimizer.Update(0, w, g);
            TensorAssert.AllClose(w.ToArray(), weights.AsSpan(step * size, size), Tolerances.Golden,
                $"{name} step {step}");
        }
    }
}
