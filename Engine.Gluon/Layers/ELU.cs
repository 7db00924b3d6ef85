namespace Engine.Gluon.NN;

/// <summary>Exponential linear unit (MXNet's nn.ELU): x for x &gt; 0, alpha (exp(x) - 1) otherwise.</summary>
public class ELU : HybridBlock
{
    public ELU(double alpha = 1.0, string? prefix = null) : base(prefix)
    {
        if (!double.IsFinite(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha),
                $"ELU: alpha must be finite, got {alpha}; 1 is usual.");
        Alpha = alpha;
    }

    public double Alpha { get; }

    public override NDArray Forward(NDArray x) => Nd.Elu(x, Alpha);

    public override string ToString() => $"ELU({Alpha})";
}
