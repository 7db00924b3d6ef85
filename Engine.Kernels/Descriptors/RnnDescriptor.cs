namespace Engine.Kernels;

/// <summary>The cell of a fused recurrent layer (MXNet's RNN op <c>mode</c>).</summary>
public enum RnnMode
{
    /// <summary>h = relu(W_i x + b_i + W_h h + b_h).</summary>
    RnnRelu,

    /// <summary>h = tanh(W_i x + b_i + W_h h + b_h).</summary>
    RnnTanh,

    /// <summary>Four gates in MXNet's order i, f, g (cell candidate), o.</summary>
    Lstm,

    /// <summary>Three gates in MXNet's order r, z, n, with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).</summary>
    Gru,
}

/// <summary>
/// A fused multi-layer recurrent network over data (SeqLen, Batch, Input) in MXNet's layout. Parameters are one
/// flat vector: every weight first (layer by layer, direction by direction: i2h (G*H, in) then h2h (G*H, H)),
/// then every bias in the same order (i2h (G*H), h2h (G*H)), G being the gate count. The reserve is what the
/// backward pass reads: the outputs of every layer but the last (the last is y), the dropout mask and the dropped
/// values between layers (when Dropout &gt; 0), and per layer and direction the gate activations of every step and,
/// for LSTM, the cell state (for GRU, W_hn h + b_hn).
/// </summary>
public sealed class RnnDescriptor
{
    private readonly long[] weightOffsets, biasOffsets, gateOffsets, extraOffsets, outputOffsets, maskOffsets;

    public RnnDescriptor(RnnMode mode, int layers, bool bidirectional, int hidden, int input, int seqLen, int batch,
        double dropout)
    {
        if (layers < 1 || hidden < 1 || input < 1 || seqLen < 0 || batch < 0)
            throw new ArgumentOutOfRangeException(nameof(layers),
                $"rnn: layers {layers}, hidden {hidden} and input {input} must be positive and sequence length " +
                $"{seqLen} and batch {batch} non-negative.");
        Mode = mode;
        Layers = layers;
        Bidirectional = bidirectional;
        Hidden = hidden;
        Input = input;
        SeqLen = seqLen;
        Batch = batch;
        Dropout = dropout;
        int slots = layers * Directions;
        weightOffsets = new long[slots * 2];
        biasOffsets = new long[slots * 2];
        long at = 0;
        for (int l = 0; l < layers; l++)
        {
            for (int d = 0; d < Directions; d++)
            {
                int s = (l * Directions + d) * 2;
                weightOffsets[s] = at;
                at += (long)GateWidth * LayerInput(l);
                weightOffsets[s + 1] = at;
                at += (long)GateWidth * hidden;
            }
        }
        for (int s = 0; s < slots * 2; s++)
        {
            biasOffsets[s] = at;
            at += GateWidth;
        }
        ParameterCount = at;

        long rows = Rows, r = 0;
        outputOffsets = new long[layers];
        maskOffsets = new long[layers];
        for (int l = 0; l < layers - 1; l++)
        {
            outputOffsets[l] = r;
            r += rows * Directions * hidden;
            if (dropout > 0)
            {
                maskOffsets[l] = r;
                r += 2 * rows * Directions * hidden;
            }
        }
        gateOffsets = new long[slots];
        extraOffsets = new long[slots];
        for (int s = 0; s < slots; s++)
        {
            gateOffsets[s] = r;
            r += rows * GateWidth;
            extraOffsets[s] = r;
            if (mode is RnnMode.Lstm or RnnMode.Gru) r += rows * hidden;
        }
        ReserveSize = r;
    }

    public RnnMode Mode { get; }

    public int Layers { get; }

    public bool Bidirectional { get; }

    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>H: the state size.</summary>
    public int Hidden { get; }

    /// <summary>Features of the first layer's input.</summary>
    public int Input { get; }

    public int SeqLen { get; }

    public int Batch { get; }

    /// <summary>The dropout rate applied to every layer's output but the last's.</summary>
    public double Dropout { get; }

    /// <summary>4 for LSTM, 3 for GRU, 1 for a plain RNN.</summary>
    public int Gates => Mode switch { RnnMode.Lstm => 4, RnnMode.Gru => 3, _ => 1 };

    /// <summary>G * H: the width of one step's gate pre-activations.</summary>
    public int GateWidth => Gates * Hidden;

    /// <summary>T * N: the rows of the batched input projection.</summary>
    public long Rows => (long)SeqLen * Batch;

    /// <summary>Features into layer <paramref name="layer"/>: the input, then Directions * H.</summary>
    public int LayerInput(int layer) => layer == 0 ? Input : Directions * Hidden;

    /// <summary>Elements of the flat parameter vector.</summary>
    public long ParameterCount { get; }

    /// <summary>Elements of the reserve the forward pass writes for the backward pass.</summary>
    public long ReserveSize { get; }

    /// <summary>Offset of a weight: <paramref name="h2h"/> false is i2h (G*H, in), true is h2h (G*H, H).</summary>
    public long WeightOffset(int layer, int direction, bool h2h) =>
        weightOffsets[(layer * Directions + direction) * 2 + (h2h ? 1 : 0)];

    /// <summary>Offset of a bias (G*H).</summary>
    public long BiasOffset(int layer, int direction, bool h2h) =>
        biasOffsets[(layer * Directions + direction) * 2 + (h2h ? 1 : 0)];

    /// <summary>Offset in the reserve of layer <paramref name="layer"/>'s output (T, N, D*H); not the last.</summary>
    internal long OutputOffset(int layer) => outputOffsets[layer];

    /// <summary>Offset of the dropout mask after layer <paramref name="layer"/>, then the dropped values.</summary>
    internal long MaskOffset(int layer) => maskOffsets[layer];

    /// <summary>Offset of the gate activations (T, N, G*H) of one layer and direction.</summary>
    internal long GateOffset(int layer, int direction) => gateOffsets[layer * Directions + direction];

    /// <summary>Offset of the LSTM cell states or the GRU's W_hn h + b_hn, (T, N, H).</summary>
    internal long ExtraOffset(int layer, int direction) => extraOffsets[layer * Directions + direction];

    /// <summary>Scratch elements of the forward pass: the input projection of all steps, one step's hidden
    /// projection and the combined bias.</summary>
    public long ForwardScratch => Rows * GateWidth + (long)Batch * GateWidth + GateWidth;

    /// <summary>Scratch elements of the backward pass: gate gradients of all steps (two sets for GRU, whose
    /// hidden-side n gradient differs), two layer-gradient buffers and three (N, H) running states.</summary>
    public long BackwardScratch =>
        Rows * GateWidth * (Mode == RnnMode.Gru ? 2 : 1) + 2 * Rows * Directions * Hidden + 3L * Batch * Hidden;

    public override string ToString() =>
        $"rnn {Mode} layers {Layers}{(Bidirectional ? " bidirectional" : "")} hidden {Hidden} input {Input} " +
        $"(T {SeqLen}, N {Batch})";
}
