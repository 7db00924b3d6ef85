namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.SequentialRNNCell: cells stacked, each step's output feeding the next cell; the states are
/// every cell's states in order. Unroll unrolls each cell over the whole sequence in turn, so a BidirectionalCell
/// may sit in the stack.
/// </summary>
public class SequentialRNNCell : RecurrentCell
{
    private readonly List<RecurrentCell> cells = [];

    public SequentialRNNCell(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

    /// <summary>Appends cells, registered as children "0", "1", ...</summary>
    public SequentialRNNCell Add(params RecurrentCell[] added)
    {
        foreach (var c in added)
        {
            ArgumentNullException.ThrowIfNull(c);
            cells.Add(RegisterChild(c));
        }
        return this;
    }

    public int Count => cells.Count;

    public RecurrentCell this[int index] => cells[index];

    public override IReadOnlyList<Shape> StateInfo(int batchSize = 0) =>
        cells.SelectMany(c => c.StateInfo(batchSize)).ToArray();

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states)
    {
        var next = new List<NDArray>();
        int at = 0;
        foreach (var cell in cells)
        {
            int n = cell.StateInfo().Count;
            (x, var s) = cell.Call(x, states[at..(at + n)]);
            next.AddRange(s);
            at += n;
        }
        return (x, next.ToArray());
    }

    public override (NDArray[] Outputs, NDArray[] States) Unroll(int length, NDArray[] inputs,
        NDArray[]? beginState = null, string layout = "NTC", bool? mergeOutputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (cells.Count == 0) throw new InvalidOperationException($"{Name}: has no cells; Add some first.");
        int axis = TimeAxis(layout);
        var states = beginState ?? BeginState(inputs.Length == 0 ? 0 : inputs[0].Shape[0],
            inputs.Length == 0 ? null : inputs[0].Device, inputs.Length == 0 ? DType.Float32 : inputs[0].DType);
        if (states.Length != StateInfo().Count)
            throw new ArgumentException(
                $"{Name}: expects {StateInfo().Count} begin state array(s), got {states.Length}.");
        var next = new List<NDArray>();
        int at = 0;
        foreach (var cell in cells)
        {
            int n = cell.StateInfo().Count;
            (inputs, var s) = cell.Unroll(length, inputs, states[at..(at + n)], layout, mergeOutputs: false);
            next.AddRange(s);
            at += n;
        }
        return (mergeOutputs == true ? [Merge(inputs, axis)] : inputs, next.ToArray());
    }

    public override string ToString() =>
        $"{GetType().Name}(\n{string.Join("\n", cells.Select((c, i) => $"  ({i}): {c}"))}\n)";
}
