namespace Engine.Gluon.NN;

/// <summary>Swish (MXNet's nn.Swish): x sigmoid(beta x); beta 1 is SiLU. Composed from multiply and sigmoid, as
/// Gluon's is, so it exports as _mul_scalar, sigmoid and elemwise_mul.</summary>
public class Swish : HybridBlock
{
    public Swish(double beta = 1.0, string? prefix = null) : base(prefix)
    {
        if (!double.IsFinite(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), $"Swish: beta must be finite, got {beta}; 1 is usual.");
        Beta = beta;
    }

    public double Beta { get; }

    public override NDArray Forward(NDArray x) => Nd.Swish(x, Beta);

    public override string ToString() => $"Swish({Beta})";
}
