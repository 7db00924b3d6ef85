namespace Engine.Gluon.NN;

/// <summary>Scaled exponential linear unit (MXNet's nn.SELU): lambda elu(x) with SELU's fixed alpha and lambda.
/// </summary>
public class SELU : HybridBlock
{
    public SELU(string? prefix = null) : base(prefix) { }

    public override NDArray Forward(NDArray x) => Nd.Selu(x);

    public override string ToString() => "SELU";
}
