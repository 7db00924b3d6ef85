namespace Engine.Gluon.NN;

/// <summary>Gaussian error linear unit, erf form (MXNet 1.9's nn.GELU): x (1 + erf(x / sqrt 2)) / 2.</summary>
public class GELU : HybridBlock
{
    public GELU(string? prefix = null) : base(prefix) { }

    public override NDArray Forward(NDArray x) => Nd.Gelu(x);

    public override string ToString() => "GELU";
}
