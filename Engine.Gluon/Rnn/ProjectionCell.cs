using Engine.Gluon.Initializers;

namespace Engine.Gluon.Rnn;

/// <summary>
/// The parameters the RNN, LSTM and GRU cells share, with MXNet's names and shapes: <c>i2h_weight</c>
/// (G*H, input_size), <c>h2h_weight</c> (G*H, H), <c>i2h_bias</c> and <c>h2h_bias</c> (G*H), G being the number
/// of gates. input_size 0 defers the i2h weight's shape to the first step.
/// </summary>
public abstract class ProjectionCell : RecurrentCell
{
    private readonly Parameter i2hWeight, h2hWeight, i2hBias, h2hBias;

    private protected ProjectionCell(int hiddenSize, int gates, int inputSize, Initializer? i2hWeightInitializer,
        Initializer? h2hWeightInitializer, Initializer? i2hBiasInitializer, Initializer? h2hBiasInitializer,
        string? prefix, ParameterDict? @params) : base(prefix, @params)
    {
        string name = GetType().Name;
        if (hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize),
                $"{name}: hidden_size must be positive, got {hiddenSize}.");
        if (inputSize < 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize),
                $"{name}: input_size must be >= 0 (0 infers it on the first step), got {inputSize}.");
        HiddenSize = hiddenSize;
        Gates = gates;
        i2hWeight = Params.Get("i2h_weight", new Shape(gates * hiddenSize, inputSize), i2hWeightInitializer,
            allowDeferredInit: true);
        h2hWeight = Params.Get("h2h_weight", new Shape(gates * hiddenSize, hiddenSize), h2hWeightInitializer,
            allowDeferredInit: true);
        i2hBias = Params.Get("i2h_bias", new Shape(gates * hiddenSize), i2hBiasInitializer ?? new Zero(),
            allowDeferredInit: true);
        h2hBias = Params.Get("h2h_bias", new Shape(gates * hiddenSize), h2hBiasInitializer ?? new Zero(),
            allowDeferredInit: true);
    }

    public int HiddenSize { get; }

    /// <summary>G: 4 for LSTM, 3 for GRU, 1 for RNN.</summary>
    public int Gates { get; }

    public Parameter I2HWeight => i2hWeight;

    public Parameter H2HWeight => h2hWeight;

    public Parameter I2HBias => i2hBias;

    public Parameter H2HBias => h2hBias;

    public override IReadOnlyList<Shape> StateInfo(int batchSize = 0) =>
        Enumerable.Repeat(new Shape(batchSize, HiddenSize), StateCount).ToArray();

    /// <summary>States per step: 2 for LSTM (h, c), 1 otherwise.</summary>
    protected virtual int StateCount => 1;

    /// <summary>(x W_i2h^T + b_i2h, h W_h2h^T + b_h2h), each (batch, G*H).</summary>
    protected (NDArray I2H, NDArray H2H) Project(NDArray x, NDArray h)
    {
        CheckStepInput(x);
        if (i2hWeight.Shape[1] == 0 || i2hWeight.IsDeferred)
            i2hWeight.FinishDeferredInit(new Shape(Gates * HiddenSize, x.Shape[1]));
        if (x.Shape[1] != i2hWeight.Shape[1])
            throw new ArgumentException(
                $"{Name}: step input has {x.Shape[1]} features (shape {x.Shape}) but the cell was built for " +
                $"input_size {i2hWeight.Shape[1]}; give inputs of that size or a new cell.");
        var expected = new Shape(x.Shape[0], HiddenSize);
        if (h.Shape != expected)
            throw new ArgumentException(
                $"{Name}: Invalid recurrent state shape. Expecting {expected}, got {h.Shape} (batch, hidden_size).");
        var d = x.Device;
        int units = Gates * HiddenSize;
        return (Nd.FullyConnected(x, i2hWeight.Data(d), i2hBias.Data(d), units),
            Nd.FullyConnected(h, h2hWeight.Data(d), h2hBias.Data(d), units));
    }

    public override string ToString()
    {
        int input = i2hWeight.Shape[1];
        return $"{GetType().Name}({(input == 0 ? "None" : input)} -> {Gates * HiddenSize})";
    }
}
