using Engine.Gluon.Initializers;
using Engine.Kernels;

namespace Engine.Gluon.Rnn;

/// <summary>
/// The fused recurrent layers (MXNet's gluon.rnn._RNNLayer): RNN, LSTM and GRU run MXNet's RNN op, one call for
/// every layer, direction and step. Parameters carry MXNet's names and shapes, per layer k and direction (l
/// forward, r reverse): <c>l{k}_i2h_weight</c> (G*H, in), <c>l{k}_h2h_weight</c> (G*H, H), <c>l{k}_i2h_bias</c>
/// and <c>l{k}_h2h_bias</c> (G*H), so MXNet .params files load. Forward concatenates them, flattened, into the op's
/// parameter vector (every weight, then every bias), as MXNet's _rnn_param_concat does.
/// </summary>
public abstract class RecurrentLayer : HybridBlock
{
    private readonly List<(string Key, Parameter Parameter)> parameters = [];
    private readonly Parameter[] weights, biases;

    private protected RecurrentLayer(RnnMode mode, int hiddenSize, int numLayers, string layout, double dropout,
        bool bidirectional, int inputSize, Initializer? i2hWeightInitializer, Initializer? h2hWeightInitializer,
        Initializer? i2hBiasInitializer, Initializer? h2hBiasInitializer, DType dtype, string? prefix,
        ParameterDict? @params) : base(prefix, @params)
    {
        string name = GetType().Name;
        if (hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize),
                $"{name}: hidden_size must be positive, got {hiddenSize}.");
        if (numLayers <= 0)
            throw new ArgumentOutOfRangeException(nameof(numLayers),
                $"{name}: num_layers must be positive, got {numLayers}.");
        if (layout is not ("TNC" or "NTC"))
            throw new ArgumentException(
                $"{name}: Invalid layout {layout}; must be one of ['TNC' or 'NTC'].", nameof(layout));
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout),
                $"{name}: dropout must be in [0, 1), got {dropout}.");
        if (inputSize < 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize),
                $"{name}: input_size must be >= 0 (0 infers it on the first call), got {inputSize}.");
        Mode = mode;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Layout = layout;
        Dropout = dropout;
        Bidirectional = bidirectional;
        int gates = mode switch { RnnMode.Lstm => 4, RnnMode.Gru => 3, _ => 1 };
        int directions = bidirectional ? 2 : 1;
        var w = new List<Parameter>();
        var b = new List<Parameter>();
        for (int k = 0; k < numLayers; k++)
        {
            int inputs = k == 0 ? inputSize : hiddenSize * directions;
            foreach (char d in "lr"[..directions])
            {
                w.Add(Register($"{d}{k}_i2h_weight", new Shape(gates * hiddenSize, inputs), i2hWeightInitializer,
                    dtype));
                w.Add(Register($"{d}{k}_h2h_weight", new Shape(gates * hiddenSize, hiddenSize),
                    h2hWeightInitializer, dtype));
                b.Add(Register($"{d}{k}_i2h_bias", new Shape(gates * hiddenSize), i2hBiasInitializer ?? new Zero(),
                    dtype));
                b.Add(Register($"{d}{k}_h2h_bias", new Shape(gates * hiddenSize), h2hBiasInitializer ?? new Zero(),
                    dtype));
            }
        }
        weights = w.ToArray();
        biases = b.ToArray();
    }

    public RnnMode Mode { get; }

    public int HiddenSize { get; }

    public int NumLayers { get; }

    /// <summary>"TNC" (sequence first, MXNet's default) or "NTC" (batch first).</summary>
    public string Layout { get; }

    /// <summary>Dropout rate applied to the output of every layer but the last, while training.</summary>
    public double Dropout { get; }

    public bool Bidirectional { get; }

    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>The parameter named <paramref name="localName"/> (l0_i2h_weight, r1_h2h_bias, ...).</summary>
    public Parameter this[string localName] => parameters.FirstOrDefault(p => p.Key == localName).Parameter ??
        throw new KeyNotFoundException(
            $"{Name}: no parameter '{localName}'; it has {string.Join(", ", parameters.Select(p => p.Key))}.");

    /// <summary>States per layer and direction: 2 for LSTM (h and c), 1 otherwise.</summary>
    public int StateCount => Mode == RnnMode.Lstm ? 2 : 1;

    /// <summary>
    /// The initial recurrent states, zeros of shape (num_layers * directions, batch, hidden_size): [h] or, for
    /// LSTM, [h, c].
    /// </summary>
    public NDArray[] BeginState(int batchSize, Device? device = null, DType dtype = DType.Float32)
    {
        if (batchSize < 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize),
                $"{Name}: batch_size must be non-negative, got {batchSize}.");
        var shape = new Shape(NumLayers * Directions, batchSize, HiddenSize);
        return Enumerable.Range(0, StateCount).Select(_ => Nd.Zeros(shape, dtype, device)).ToArray();
    }

    /// <summary>Runs the layer from zero states and returns the output only.</summary>
    public override NDArray Forward(NDArray x) => ForwardMany([x])[0];

    /// <summary>Runs the layer from <paramref name="states"/>: the output and the final states.</summary>
    public (NDArray Output, NDArray[] States) Call(NDArray x, NDArray[] states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var outputs = CallMany([x, .. states]);
        return (outputs[0], outputs[1..]);
    }

    /// <summary>
    /// inputs[0] is the data (layout TNC or NTC), the rest the states. Without states, returns [output]; with
    /// them, [output, final states...].
    /// </summary>
    public override NDArray[] ForwardMany(NDArray[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0) throw new ArgumentException($"{Name}: needs the input sequence.");
        var x = inputs[0];
        if (x.Rank != 3)
            throw new ArgumentException(
                $"{Name}: input must be 3-D in layout {Layout} " +
                $"({(Layout == "TNC" ? "sequence, batch" : "batch, sequence")}, features), got shape {x.Shape}.");
        bool batchFirst = Layout == "NTC";
        int batch = batchFirst ? x.Shape[0] : x.Shape[1];
        var first = weights[0];
        if (first.Shape[1] == 0 || first.IsDeferred)
        {
            // Layer 0's i2h weights (one per direction) wait for the input's feature count.
            for (int d = 0; d < Directions; d++)
                weights[2 * d].FinishDeferredInit(new Shape(weights[2 * d].Shape[0], x.Shape[2]));
        }
        if (x.Shape[2] != first.Shape[1])
            throw new ArgumentException(
                $"{Name}: input has {x.Shape[2]} features (shape {x.Shape}, layout {Layout}) but the layer was " +
                $"built for input_size {first.Shape[1]}; give inputs of that size or a new layer.");
        var given = inputs[1..];
        if (given.Length != 0 && given.Length != StateCount)
            throw new ArgumentException(
                $"{Name}: expects {StateCount} state array(s) ({(StateCount == 2 ? "h and c" : "h")}), got " +
                $"{given.Length}; use BeginState(batchSize) for zeros.");
        var stateShape = new Shape(NumLayers * Directions, batch, HiddenSize);
        foreach (var s in given)
        {
            if (s.Shape != stateShape)
                throw new ArgumentException(
                    $"{Name}: Invalid recurrent state shape. Expecting {stateShape}, got {s.Shape} " +
                    "(num_layers * directions, batch, hidden_size).");
        }
        var states = given.Length != 0 ? given : BeginState(batch, x.Device, x.DType);
        var data = batchFirst ? x.Transpose(1, 0, 2) : x;
        var device = x.Device;
        var flat = Nd.Concat(0, weights.Concat(biases).Select(p => p.Data(device).Reshape(-1)).ToArray());
        var outputs = Nd.Rnn(data, flat, states[0], StateCount == 2 ? states[1] : null, Mode, HiddenSize, NumLayers,
            Bidirectional, Dropout, stateOutputs: given.Length != 0);
        var y = batchFirst ? outputs[0].Transpose(1, 0, 2) : outputs[0];
        return given.Length == 0 ? [y] : [y, .. outputs[1..]];
    }

    protected override IEnumerable<(string Key, Parameter Parameter)> ListedParameters() => parameters;

    public override string ToString()
    {
        int input = weights[0].Shape[1];
        var sb = new System.Text.StringBuilder(
            $"{GetType().Name}({(input == 0 ? "None" : input)} -> {HiddenSize}, {Layout}");
        if (NumLayers != 1) sb.Append($", num_layers={NumLayers}");
        if (Dropout != 0) sb.Append($", dropout={Dropout}");
        if (Bidirectional) sb.Append(", bidirectional");
        return sb.Append(')').ToString();
    }

    private Parameter Register(string name, Shape shape, Initializer? init, DType dtype)
    {
        var p = Params.Get(name, shape, init, dtype, allowDeferredInit: true);
        parameters.Add((name, p));
        return p;
    }
}
