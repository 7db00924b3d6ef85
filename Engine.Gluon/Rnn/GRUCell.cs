using Engine.Gluon.Initializers;

namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.GRUCell: with i2h and h2h split into (r, z, n) slices, r = sigmoid(i2h_r + h2h_r),
/// z = sigmoid(i2h_z + h2h_z), n = tanh(i2h_n + r * h2h_n), h' = (1 - z) n + z h. State [h].
/// </summary>
public class GRUCell : ProjectionCell
{
    public GRUCell(int hiddenSize, Initializer? i2hWeightInitializer = null, Initializer? h2hWeightInitializer = null,
        Initializer? i2hBiasInitializer = null, Initializer? h2hBiasInitializer = null, int inputSize = 0,
        string? prefix = null, ParameterDict? @params = null)
        : base(hiddenSize, 3, inputSize, i2hWeightInitializer, h2hWeightInitializer, i2hBiasInitializer,
            h2hBiasInitializer, prefix, @params) { }

    protected override string Alias => "gru";

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states)
    {
        var h = states[0];
        var (i2h, h2h) = Project(x, h);
        var xi = Nd.Split(i2h, 3, axis: 1);
        var hh = Nd.Split(h2h, 3, axis: 1);
        var reset = Nd.Sigmoid(xi[0] + hh[0]);
        var update = Nd.Sigmoid(xi[1] + hh[1]);
        var candidate = Nd.Tanh(xi[2] + reset * hh[2]);
        var next = candidate + update * (h - candidate);
        return (next, [next]);
    }
}
