namespace Engine.Gluon.Rnn;

/// <summary>
/// A cell that wraps another (MXNet's ModifierCell): it has the base cell's states, and its parameters are the
/// base cell's.
/// </summary>
public abstract class ModifierCell : RecurrentCell
{
    private readonly RecurrentCell baseCell;

    protected ModifierCell(RecurrentCell baseCell) : base("", null)
    {
        ArgumentNullException.ThrowIfNull(baseCell);
        // The base cell keeps the name it was created with (rnn0_), as in MXNet.
        _ = baseCell.Prefix;
        this.baseCell = RegisterChild(baseCell, "base_cell");
    }

    public RecurrentCell BaseCell => baseCell;

    public override IReadOnlyList<Shape> StateInfo(int batchSize = 0) => baseCell.StateInfo(batchSize);
}
