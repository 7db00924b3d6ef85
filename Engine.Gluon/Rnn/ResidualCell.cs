namespace Engine.Gluon.Rnn;

/// <summary>MXNet's gluon.rnn.ResidualCell: the base cell's output plus the step's input.</summary>
public class ResidualCell : ModifierCell
{
    public ResidualCell(RecurrentCell baseCell) : base(baseCell) { }

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states)
    {
        var (output, next) = BaseCell.Call(x, states);
        if (output.Shape != x.Shape)
            throw new ArgumentException(
                $"{Name}: the base cell's output {output.Shape} and the input {x.Shape} must have the same shape " +
                "to be added; give the base cell hidden_size equal to the input's features.");
        return (output + x, next);
    }
}
