using Engine.Gluon.Initializers;
using Engine.Kernels;

namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.RNN: a multi-layer Elman network, h' = activation(W_i x + b_i + W_h h + b_h) with activation
/// "relu" (MXNet's default) or "tanh". The state is [h], (num_layers * directions, batch, hidden_size).
/// </summary>
public class RNN : RecurrentLayer
{
    public RNN(int hiddenSize, int numLayers = 1, string activation = "relu", string layout = "TNC",
        double dropout = 0, bool bidirectional = false, int inputSize = 0, Initializer? i2hWeightInitializer = null,
        Initializer? h2hWeightInitializer = null, Initializer? i2hBiasInitializer = null,
        Initializer? h2hBiasInitializer = null, DType dtype = DType.Float32, string? prefix = null,
        ParameterDict? @params = null)
        : base(ModeOf(activation), hiddenSize, numLayers, layout, dropout, bidirectional, inputSize,
            i2hWeightInitializer, h2hWeightInitializer, i2hBiasInitializer, h2hBiasInitializer, dtype, prefix,
            @params) { }

    /// <summary>"relu" or "tanh".</summary>
    public string Activation => Mode == RnnMode.RnnRelu ? "relu" : "tanh";

    private static RnnMode ModeOf(string activation) => activation switch
    {
        "relu" => RnnMode.RnnRelu,
        "tanh" => RnnMode.RnnTanh,
        _ => throw new ArgumentException(
            $"RNN: activation must be \"relu\" or \"tanh\", got \"{activation}\"; use LSTM or GRU for gated cells.",
            nameof(activation)),
    };
}
