using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>
/// MXNet's RNN op attributes. <see cref="Training"/>, <see cref="Seed"/> and <see cref="Offset"/> are resolved when
/// the op is called (dropout between layers draws its masks from the Philox stream only while training).
/// </summary>
public sealed record RnnAttrs(RnnMode Mode, int StateSize, int NumLayers, bool Bidirectional = false, double P = 0,
    bool StateOutputs = false, bool Training = false, ulong Seed = 0, ulong Offset = 0)
    : OpAttrs, Graphs.IPerCallAttributes
{
    /// <summary>MXNet's name of a mode: rnn_relu, rnn_tanh, lstm, gru.</summary>
    public static string ModeName(RnnMode mode) => mode switch
    {
        RnnMode.RnnRelu => "rnn_relu", RnnMode.RnnTanh => "rnn_tanh", RnnMode.Lstm => "lstm", _ => "gru",
    };

    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Inputs: data, parameters, state and, for LSTM, state_cell.</summary>
    public int InputCount => Mode == RnnMode.Lstm ? 4 : 3;

    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["bidirectional"] = Format.Bool(Bidirectional), ["mode"] = ModeName(Mode),
        ["num_layers"] = NumLayers.ToString(), ["p"] = Format.Number(P),
        ["state_outputs"] = Format.Bool(StateOutputs), ["state_size"] = StateSize.ToString(),
    };

    /// <summary>A traced call while training draws new dropout counters on every run.</summary>
    public Ops.OpAttrs ForCall(TensorType[] inputs)
    {
        if (!Training) return this;
        var (seed, offset) = RandomState.Take(Counters(inputs[0].Shape));
        return this with { Seed = seed, Offset = offset };
    }

    /// <summary>These attributes with the training flag and the dropout counters of a call on this data.</summary>
    public RnnAttrs Resolve(Shape data)
    {
        bool active = P > 0 && NumLayers > 1 && Autograd.IsTraining;
        if (!active) return this with { Training = false, Seed = 0, Offset = 0 };
        if (Graphs.Tracer.Current is not null) return this with { Training = true, Seed = 0, Offset = 0 };
        var (seed, offset) = RandomState.Take(Counters(data));
        return this with { Training = true, Seed = seed, Offset = offset };
    }

    private ulong Counters(Shape data) =>
        (ulong)(NumLayers - 1) * CpuRandom.CountersUsed32(data.Rank == 3 ? (long)data[0] * data[1] * Directions *
            StateSize : 0);

    /// <summary>The kernel descriptor for data of shape (T, N, I).</summary>
    public RnnDescriptor Describe(Shape data) =>
        new(Mode, NumLayers, Bidirectional, StateSize, data[2], data[0], data[1], P);
}

/// <summary>MXNet's fused recurrent layer (RNN op) and its backward.</summary>
[OpTable]
public static class RecurrentOps
{
    /// <summary>
    /// Inputs data (T, N, I), the flat parameters, state (L*D, N, H) and for LSTM state_cell; outputs y
    /// (T, N, D*H), the final state, the final cell (LSTM; shape (0,) otherwise) and the reserve the backward
    /// pass reads.
    /// </summary>
    public static readonly OpDef<RnnAttrs> Rnn = new("rnn", -1, 4,
        (a, t) =>
        {
            var d = Check(a, t);
            var state = t[2];
            var cell = a.Mode == RnnMode.Lstm ? state : new TensorType(new Shape(0), t[0].DType);
            return
            [
                new TensorType(new Shape(d.SeqLen, d.Batch, d.Directions * d.Hidden), t[0].DType), state, cell,
                new TensorType(new Shape(checked((int)d.ReserveSize)), t[0].DType),
            ];
        },
        FusionClass.Opaque,
        static (a, i, o, g, r) =>
        {
            bool lstm = a.Mode == RnnMode.Lstm;
            NDArray[] args = lstm ? [i[0], i[1], i[2], i[3], o[0], o[3], g[0], g[1], g[2]]
                : [i[0], i[1], i[2], o[0], o[3], g[0], g[1]];
            var grads = RnnBackward!.Invoke(a, args);
            var result = new NDArray?[i.Length];
            for (int k = 0; k < i.Length; k++) result[k] = r[k] ? grads[k] : null;
            return result;
        })
    {
        // The gradient reads every input (the first step's state, the layer-0 input) and y and the reserve.
        Saves = SavedValues.Of([0, 1, 2, 3], [0, 3]),
        Scratch = static (a, t) => DenseBytes(t) + Check(a, t).ForwardScratch * t[0].DType.SizeInBytes(),
    };

    /// <summary>
    /// Inputs data, parameters, state, [state_cell], y, reserve, dy, dhy, [dcy]; outputs the gradients of data,
    /// parameters, state and state_cell ((0,) unless LSTM).
    /// </summary>
    public static readonly OpDef<RnnAttrs> RnnBackward = new("_backward_rnn", -1, 4,
        (a, t) =>
        {
            int expected = a.Mode == RnnMode.Lstm ? 9 : 7;
            if (t.Length != expected)
                throw new ArgumentException(
                    $"_backward_rnn: expects {expected} inputs for mode {RnnAttrs.ModeName(a.Mode)}, got {t.Length}.");
            Check(a, t[..a.InputCount]);
            var cell = a.Mode == RnnMode.Lstm ? t[3] : new TensorType(new Shape(0), t[0].DType);
            return [t[0], t[1], t[2], cell];
        })
    {
        Scratch = static (a, t) => DenseBytes(t) + Check(a, t[..a.InputCount]).BackwardScratch *
            t[0].DType.SizeInBytes(),
    };

    private static long DenseBytes(TensorType[] t) => t.Sum(x => x.Shape.Size * x.DType.SizeInBytes());

    /// <summary>Every check of the op's inputs; the descriptor of a valid call.</summary>
    internal static RnnDescriptor Check(RnnAttrs a, TensorType[] t)
    {
        const string op = "rnn";
        string mode = RnnAttrs.ModeName(a.Mode);
        if (a.StateSize < 1 || a.NumLayers < 1)
            throw new ArgumentException(
                $"{op}: state_size ({a.StateSize}) and num_layers ({a.NumLayers}) must be positive.");
        if (!(a.P >= 0 && a.P < 1))
            throw new ArgumentException($"{op}: dropout p must be in [0, 1), got {a.P}.");
        if (t.Length != a.InputCount)
            throw new ArgumentException(
                $"{op}: mode {mode} takes {a.InputCount} inputs (data, parameters, state" +
                $"{(a.Mode == RnnMode.Lstm ? ", state_cell" : "")}), got {t.Length}.");
        ShapeRules.RequireFloat(op, t[0]);
        for (int k = 1; k < t.Length; k++) ShapeRules.RequireSameDType(op, t[0], t[k]);
        var x = t[0].Shape;
        if (x.Rank != 3 || x[2] < 1)
            throw new ArgumentException(
                $"{op}: data must be (sequence, batch, features) in TNC layout with features > 0, got {x}; " +
                "transpose NTC data with SwapAxes(0, 1).");
        var d = a.Describe(x);
        if (t[1].Shape.Rank != 1 || t[1].Shape[0] != d.ParameterCount)
            throw new ArgumentException(
                $"{op}: parameters has shape {t[1].Shape} but {mode} with {a.NumLayers} layer(s), state_size " +
                $"{a.StateSize}, input size {x[2]}{(a.Bidirectional ? ", bidirectional" : "")} needs " +
                $"({d.ParameterCount},): every weight, then every bias, flattened and concatenated.");
        var stateShape = new Shape(a.NumLayers * a.Directions, x[1], a.StateSize);
        for (int k = 2; k < t.Length; k++)
        {
            if (t[k].Shape != stateShape)
                throw new ArgumentException(
                    $"{op}: {(k == 2 ? "state" : "state_cell")} has shape {t[k].Shape} but needs {stateShape} " +
                    "(num_layers * directions, batch, state_size).");
        }
        return d;
    }
}
