namespace Engine.Gluon.Rnn;

/// <summary>
/// MXNet's gluon.rnn.ZoneoutCell: while training, each element of the output (and of each state) keeps its
/// previous value with probability zoneoutOutputs (zoneoutStates) instead of taking the new one. Outside training
/// it is the base cell. The previous output starts at zero and is forgotten by <see cref="Reset"/> (Unroll calls
/// it).
/// </summary>
public class ZoneoutCell : ModifierCell
{
    private NDArray? previousOutput;

    public ZoneoutCell(RecurrentCell baseCell, double zoneoutOutputs = 0, double zoneoutStates = 0) : base(baseCell)
    {
        if (baseCell is BidirectionalCell)
            throw new ArgumentException(
                "ZoneoutCell: BidirectionalCell doesn't support zoneout since it doesn't support step. Please add " +
                "ZoneoutCell to the cells underneath instead.", nameof(baseCell));
        if (!(zoneoutOutputs >= 0 && zoneoutOutputs < 1) || !(zoneoutStates >= 0 && zoneoutStates < 1))
            throw new ArgumentOutOfRangeException(nameof(zoneoutOutputs),
                $"ZoneoutCell: zoneout probabilities must be in [0, 1), got outputs {zoneoutOutputs} and states " +
                $"{zoneoutStates}.");
        ZoneoutOutputs = zoneoutOutputs;
        ZoneoutStates = zoneoutStates;
    }

    protected override string Alias => "zoneout";

    public double ZoneoutOutputs { get; }

    public double ZoneoutStates { get; }

    public override void Reset()
    {
        base.Reset();
        previousOutput = null;
    }

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states)
    {
        var (next, nextStates) = BaseCell.Call(x, states);
        // The mask is dropout of ones: 0 (keep the old value) with probability p while training, else nonzero.
        static NDArray Mask(double p, NDArray like) => Nd.Dropout(Nd.OnesLike(like), p);
        var previous = previousOutput is not null && previousOutput.Shape == next.Shape
            ? previousOutput : Nd.ZerosLike(next);
        var output = ZoneoutOutputs != 0 ? Nd.Where(Mask(ZoneoutOutputs, next), next, previous) : next;
        var kept = ZoneoutStates != 0
            ? nextStates.Select((s, k) => Nd.Where(Mask(ZoneoutStates, s), s, states[k])).ToArray()
            : nextStates;
        previousOutput = output;
        return (output, kept);
    }

    public override string ToString() =>
        $"ZoneoutCell(p_out={ZoneoutOutputs}, p_state={ZoneoutStates}, {BaseCell})";
}
