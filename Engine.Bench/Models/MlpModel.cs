namespace Engine.Bench.Models;

/// <summary>MLP 784-256-10 with ReLU at batch 256: FullyConnected, relu, FullyConnected.</summary>
public sealed class MlpModel : TrainModel
{
    private const int Batch = 256;
    private readonly NDArray w1, b1, w2, b2;

    public MlpModel()
    {
        w1 = Weight(256, 784);
        b1 = Bias(256);
        w2 = Weight(10, 256);
        b2 = Bias(10);
    }

    public override string Name => $"mlp 784-256-10 b{Batch}";

    public override Shape InputShape => new(Batch, 784);

    public override NDArray Forward(NDArray x) =>
        Nd.FullyConnected(Nd.Relu(Nd.FullyConnected(x, w1, b1, 256)), w2, b2, 10);
}
