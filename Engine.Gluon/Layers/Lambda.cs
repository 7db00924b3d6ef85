namespace Engine.Gluon.NN;

/// <summary>Wraps a function as a block (MXNet's nn.Lambda; HybridLambda when the function is hybridizable).</summary>
public class Lambda : Block
{
    private readonly Func<NDArray, NDArray> function;

    public Lambda(Func<NDArray, NDArray> function, string? prefix = null) : base(prefix) =>
        this.function = function ?? throw new ArgumentNullException(nameof(function));

    public override NDArray Forward(NDArray x) => function(x);

    public override string ToString() => $"Lambda({function.Method.Name})";
}

/// <summary>A Lambda usable inside HybridBlocks: the function must use only Nd operations.</summary>
public class HybridLambda : HybridBlock
{
    private readonly Func<NDArray, NDArray> function;

    public HybridLambda(Func<NDArray, NDArray> function, string? prefix = null) : base(prefix) =>
        this.function = function ?? throw new ArgumentNullException(nameof(function));

    public override NDArray Forward(NDArray x) => function(x);

    public override string ToString() => $"HybridLambda({function.Method.Name})";
}
