using Engine.Gluon.Initializers;

namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.LSTMCell: the gates i, f, c~, o are the four (batch, H) slices of W_i x + b_i + W_h h + b_h
/// in that order; c' = sigmoid(f) c + sigmoid(i) tanh(c~), h' = sigmoid(o) tanh(c'). States [h, c].
/// </summary>
public class LSTMCell : ProjectionCell
{
    public LSTMCell(int hiddenSize, Initializer? i2hWeightInitializer = null, Initializer? h2hWeightInitializer = null,
        Initializer? i2hBiasInitializer = null, Initializer? h2hBiasInitializer = null, int inputSize = 0,
        string? prefix = null, ParameterDict? @params = null)
        : base(hiddenSize, 4, inputSize, i2hWeightInitializer, h2hWeightInitializer, i2hBiasInitializer,
            h2hBiasInitializer, prefix, @params) { }

    protected override string Alias => "lstm";

    protected override int StateCount => 2;

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states)
    {
        var (i2h, h2h) = Project(x, states[0]);
        var gates = Nd.Split(i2h + h2h, 4, axis: 1);
        var input = Nd.Sigmoid(gates[0]);
        var forget = Nd.Sigmoid(gates[1]);
        var transform = Nd.Tanh(gates[2]);
        var output = Nd.Sigmoid(gates[3]);
        var c = forget * states[1] + input * transform;
        var h = output * Nd.Tanh(c);
        return (h, [h, c]);
    }
}
