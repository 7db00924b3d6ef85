namespace Engine.Bench.Models;

/// <summary>
/// Seed 003's LeNet, batch 256 by default, on 28x28 input: conv(6, 5) relu maxpool(2) conv(16, 5) relu maxpool(2), then
/// dense 120 relu, dense 84 relu, dense 10. The flattened features are 16 x 4 x 4 = 256.
/// </summary>
public sealed class LeNetModel : TrainModel
{
    private readonly int batch;
    private readonly NDArray c1, c1b, c2, c2b, f1, f1b, f2, f2b, f3, f3b;

    /// <summary>The train suite's batch is 256; the GPU check runs smaller ones on the simulated GPU.</summary>
    public LeNetModel(int batch = 256)
    {
        this.batch = batch;
        c1 = Weight(6, 1, 5, 5);
        c1b = Bias(6);
        c2 = Weight(16, 6, 5, 5);
        c2b = Bias(16);
        f1 = Weight(120, 256);
        f1b = Bias(120);
        f2 = Weight(84, 120);
        f2b = Bias(84);
        f3 = Weight(10, 84);
        f3b = Bias(10);
    }

    public override string Name => $"lenet b{batch}";

    public override Shape InputShape => new(batch, 1, 28, 28);

    public override NDArray Forward(NDArray x)
    {
        var h = Nd.MaxPool2D(Nd.Relu(Nd.Convolution(x, c1, c1b)));
        h = Nd.MaxPool2D(Nd.Relu(Nd.Convolution(h, c2, c2b)));
        h = Nd.Relu(Nd.FullyConnected(h, f1, f1b, 120));
        h = Nd.Relu(Nd.FullyConnected(h, f2, f2b, 84));
        return Nd.FullyConnected(h, f3, f3b, 10);
    }
}
