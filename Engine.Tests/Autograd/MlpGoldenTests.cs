using Engine.Tests.Support;

namespace Engine.Tests.Autograd;

/// <summary>A two-layer MLP's loss and gradients against PyTorch autograd on the same weights and data.</summary>
public class MlpGoldenTests
{
    [Test]
    public void GradientsMatchPyTorch()
    {
        var c = Golden.Load("mlp", "two_layer");
        NDArray Load(string key) => Nd.Array(c[key].ToFloat32(), c[key].Shape);
        using var scope = NDArray.Scope();
        var x = Load("x");
        var labels = Nd.Array(c["labels"].ToInt64(), c["labels"].Shape);
        var w1 = Load("w1");
        var b1 = Load("b1");
        var w2 = Load("w2");
        var b2 = Load("b2");
        foreach (var p in new[] { w1, b1, w2, b2 }) p.AttachGrad();
        NDArray loss;
        using (Engine.Autograd.Record())
        {
            var hidden = Nd.Relu(Nd.FullyConnected(x, w1, b1, 16));
            var logits = Nd.FullyConnected(hidden, w2, b2, 5);
            loss = Nd.Mean(Nd.SoftmaxCrossEntropy(logits, labels));
        }
        loss.Backward();
        TensorAssert.AllClose([loss.ToScalar()], c["loss"].ToFloat32(), Tolerances.Golden, "loss");
        TensorAssert.AllClose(w1.Grad!.ToArray(), c["dw1"].ToFloat32(), Tolerances.Golden, "dw1");
        TensorAssert.AllClose(b1.Grad!.ToArray(), c["db1"].ToFloat32(), Tolerances.Golden, "db1");
        TensorAssert.AllClose(w2.Grad!.ToArray(), c["dw2"].ToFloat32(), Tolerances.Golden, "dw2");
        TensorAssert.AllClose(b2.Grad!.ToArray(), c["db2"].ToFloat32(), Tolerances.Golden, "db2");
    }
}
