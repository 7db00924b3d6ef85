using Engine.Gluon.Initializers;
using Engine.Kernels;

namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.GRU: a multi-layer gated recurrent unit network. Gates in MXNet's order r, z, n:
/// r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
/// h' = (1 - z) n + z h. The state is [h], (num_layers * directions, batch, hidden_size).
/// </summary>
public class GRU : RecurrentLayer
{
    public GRU(int hiddenSize, int numLayers = 1, string layout = "TNC", double dropout = 0,
        bool bidirectional = false, int inputSize = 0, Initializer? i2hWeightInitializer = null,
        Initializer? h2hWeightInitializer = null, Initializer? i2hBiasInitializer = null,
        Initializer? h2hBiasInitializer = null, DType dtype = DType.Float32, string? prefix = null,
        ParameterDict? @params = null)
        : base(RnnMode.Gru, hiddenSize, numLayers, layout, dropout, bidirectional, inputSize, i2hWeightInitializer,
            h2hWeightInitializer, i2hBiasInitializer, h2hBiasInitializer, dtype, prefix, @params) { }
}
