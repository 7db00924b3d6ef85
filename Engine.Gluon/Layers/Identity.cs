namespace Engine.Gluon.NN;

/// <summary>Returns its input unchanged (MXNet's contrib.nn.Identity): a placeholder branch in a
/// HybridConcurrent or a residual path. It adds no node to a traced graph.</summary>
public class Identity : HybridBlock
{
    public Identity(string? prefix = null) : base(prefix) { }

    public override NDArray Forward(NDArray x) => x;

    public override string ToString() => "Identity";
}
