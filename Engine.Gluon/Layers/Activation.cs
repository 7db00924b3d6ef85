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
