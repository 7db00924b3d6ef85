namespace Engine.Gluon.NN;

/// <summary>Leaky ReLU with a fixed slope for negative inputs.</summary>
public class LeakyReLU : HybridBlock
{
    public LeakyReLU(double alpha, string? prefix = null) : base(prefix)
    {
        if (!(alpha >= 0))
            throw new ArgumentOutOfRangeException(nameof(alpha), $"LeakyReLU: alpha must be >= 0, got {alpha}.");
        Alpha = alpha;
    }

    public double Alpha { get; }

    public override NDArray Forward(NDArray x) => Nd.LeakyRelu(x, Alpha);

    public override string ToString() => $"LeakyReLU({Alpha})";
}
