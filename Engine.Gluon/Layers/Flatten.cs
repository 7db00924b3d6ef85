namespace Engine.Gluon.NN;

/// <summary>Flattens all axes but the first: (N, ...) to (N, prod(...)).</summary>
public class Flatten : HybridBlock
{
    public Flatten(string? prefix = null) : base(prefix) { }

    public override NDArray Forward(NDArray x) => x.Flatten();

    public override string ToString() => "Flatten";
}
