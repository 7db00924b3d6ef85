namespace Engine.Gluon.Rnn;

/// <summary>MXNet's gluon.rnn.DropoutCell: dropout on each step's input while training; no states.</summary>
public class DropoutCell : RecurrentCell
{
    public DropoutCell(double rate, string? prefix = null, ParameterDict? @params = null) : base(prefix, @params)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), $"DropoutCell: rate must be in [0, 1), got {rate}.");
        Rate = rate;
    }

    protected override string Alias => "dropout";

    public double Rate { get; }

    public override IReadOnlyList<Shape> StateInfo(int batchSize = 0) => [];

    protected override (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states) =>
        (Rate == 0 ? x.Copy() : Nd.Dropout(x, Rate), []);

    public override string ToString() => $"DropoutCell(rate={Rate})";
}
