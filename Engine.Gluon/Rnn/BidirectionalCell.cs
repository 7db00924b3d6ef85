namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.BidirectionalCell: the left cell runs forward in time, the right cell backward, and each
/// step's output is the two outputs concatenated on the feature axis. States are the left cell's, then the right
/// cell's. It cannot be stepped: only <see cref="Unroll(int, NDArray[], NDArray[], string, bool?)"/> works.
/// </summary>
public class BidirectionalCell : RecurrentCell
{
    private readonly RecurrentCell left, right;

    public BidirectionalCell(RecurrentCell lCell, RecurrentCell rCell, string outputPrefix = "bi_")
        : base("", null)
    {
        ArgumentNullException.ThrowIfNull(lCell);
        ArgumentNullException.ThrowIfNull(rCell);
        // The cells keep the names they were created with (lstm0_, lstm1_), as in MXNet: resolve them before
        // the fields would name them under this block.
        _ = lCell.Prefix + rCell.Prefix;
        left = RegisterChild(lCell, "l_cell");
        right = RegisterChild(rCell, "r_cell");
        OutputPrefix = outputPrefix;
    }

    public string OutputPrefix { get; }

    public override IReadOnlyList<Shape> StateInfo(int batchSize = 0) =>
        [.. left.StateInfo(batchSize), .. right.StateInfo(batchSize)];

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states) =>
        throw new NotSupportedException(
            $"{Name}: Bidirectional cannot be stepped. Please use Unroll(length, inputs, ...).");

    public override (NDArray[] Outputs, NDArray[] States) Unroll(int length, NDArray[] inputs,
        NDArray[]? beginState = null, string layout = "NTC", bool? mergeOutputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int axis = TimeAxis(layout);
        if (inputs.Length != length)
            throw new ArgumentException($"{Name}: Unroll of {length} steps got {inputs.Length} step inputs.");
        if (length == 0) throw new ArgumentException($"{Name}: Unroll needs at least one step.");
        var states = beginState ?? BeginState(inputs[0].Shape[0], inputs[0].Device, inputs[0].DType);
        int nl = left.StateInfo().Count;
        if (states.Length != StateInfo().Count)
            throw new ArgumentException(
                $"{Name}: expects {StateInfo().Count} begin state array(s), got {states.Length}.");
        var (lOut, lStates) = left.Unroll(length, inputs, states[..nl], layout, mergeOutputs: false);
        var reversed = inputs.Reverse().ToArray();
        var (rOut, rStates) = right.Unroll(length, reversed, states[nl..], layout, mergeOutputs: false);
        var outputs = Enumerable.Range(0, length).Select(t => Nd.Concat(1, lOut[t], rOut[length - 1 - t])).ToArray();
        return (mergeOutputs == true ? [Merge(outputs, axis)] : outputs, [.. lStates, .. rStates]);
    }
}
