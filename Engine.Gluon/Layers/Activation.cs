namespace Engine.Gluon.NN;

/// <summary>An activation function: relu, sigmoid, tanh, softrelu or softsign (MXNet's nn.Activation).</summary>
public class Activation : HybridBlock
{
    private static readonly string[] Known = ["relu", "sigmoid", "tanh", "softrelu", "softsign"];

    public Activation(string activation, string? prefix = null) : base(prefix)
    {
        if (!Known.Contains(activation))
            throw new ArgumentException(
                $"Activation: unknown activation '{activation}'; use one of {string.Join(", ", Known)}.");
        Kind = activation;
    }

    public string Kind { get; }

    protected override string Alias => Kind;

    public override NDArray Forward(NDArray x) => Kind switch
    {
        "relu" => Nd.Relu(x),
        "sigmoid" => Nd.Sigmoid(x),
        "tanh" => Nd.Tanh(x),
        "softrelu" => Nd.SoftRelu(x),
        _ => Nd.SoftSign(x),
    };

    public override string ToString() => $"Activation({Kind})";
}

/// <summary>Leaky ReLU with a fixed slope for negative inputs.</summary>
public class LeakyReLU : HybridBlock
{
    public LeakyReLU(double alpha, string? prefix = null) : base(prefix)
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), $"LeakyReLU: alpha must be >= 0, got {alpha}.");
        Alpha = alpha;
    }

    public double Alpha { get; }

    public override NDArray Forward(NDArray x) => Nd.LeakyRelu(x, Alpha);

    public override string ToString() => $"LeakyReLU({Alpha})";
}

/// <summary>Randomly zeroes elements with probability rate while training (Autograd.IsTraining).</summary>
public class Dropout : HybridBlock
{
    public Dropout(double rate, string? prefix = null) : base(prefix)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout: rate must be in [0, 1), got {rate}.");
        Rate = rate;
    }

    public double Rate { get; }

    public override NDArray Forward(NDArray x) => Rate == 0 ? x.Copy() : Nd.Dropout(x, Rate);

    public override string ToString() => $"Dropout(p = {Rate}, axes=())";
}

/// <summary>Flattens all axes but the first: (N, ...) to (N, prod(...)).</summary>
public class Flatten : HybridBlock
{
    public Flatten(string? prefix = null) : base(prefix) { }

    public override NDArray Forward(NDArray x) => x.Flatten();

    public override string ToString() => "Flatten";
}

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
