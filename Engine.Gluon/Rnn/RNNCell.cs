using Engine.Gluon.Initializers;

namespace Engine.Gluon.Rnn;

/// <summary>MXNet's gluon.rnn.RNNCell: h' = activation(W_i x + b_i + W_h h + b_h), activation tanh or relu.</summary>
public class RNNCell : ProjectionCell
{
    public RNNCell(int hiddenSize, string activation = "tanh", Initializer? i2hWeightInitializer = null,
        Initializer? h2hWeightInitializer = null, Initializer? i2hBiasInitializer = null,
        Initializer? h2hBiasInitializer = null, int inputSize = 0, string? prefix = null,
        ParameterDict? @params = null)
        : base(hiddenSize, 1, inputSize, i2hWeightInitializer, h2hWeightInitializer, i2hBiasInitializer,
            h2hBiasInitializer, prefix, @params)
    {
        if (activation is not ("tanh" or "relu"))
            throw new ArgumentException(
                $"RNNCell: activation must be \"tanh\" or \"relu\", got \"{activation}\".", nameof(activation));
        Activation = activation;
    }

    protected override string Alias => "rnn";

    public string Activation { get; }

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states)
    {
        var (i2h, h2h) = Project(x, states[0]);
        var pre = i2h + h2h;
        var h = Activation == "tanh" ? Nd.Tanh(pre) : Nd.Relu(pre);
        return (h, [h]);
    }
}
