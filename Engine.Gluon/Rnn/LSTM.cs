using Engine.Gluon.Initializers;
using Engine.Kernels;

namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.LSTM: a multi-layer long short-term memory network. Gates in MXNet's order i, f, c (the
/// candidate, PyTorch's g), o: i = sigmoid(W_ii x + b_ii + W_hi h + b_hi), likewise f and o, c~ = tanh(...),
/// c' = f c + i c~, h' = o tanh(c'). States are [h, c], each (num_layers * directions, batch, hidden_size).
/// </summary>
public class LSTM : RecurrentLayer
{
    public LSTM(int hiddenSize, int numLayers = 1, string layout = "TNC", double dropout = 0,
        bool bidirectional = false, int inputSize = 0, Initializer? i2hWeightInitializer = null,
        Initializer? h2hWeightInitializer = null, Initializer? i2hBiasInitializer = null,
        Initializer? h2hBiasInitializer = null, DType dtype = DType.Float32, string? prefix = null,
        ParameterDict? @params = null)
        : base(RnnMode.Lstm, hiddenSize, numLayers, layout, dropout, bidirectional, inputSize, i2hWeightInitializer,
            h2hWeightInitializer, i2hBiasInitializer, h2hBiasInitializer, dtype, prefix, @params) { }
}
