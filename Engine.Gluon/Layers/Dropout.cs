namespace Engine.Gluon.NN;

/// <summary>Randomly zeroes elements with probability rate while training (Autograd.IsTraining).</summary>
public class Dropout : HybridBlock
{
    public Dropout(double rate, string? prefix = null) : base(prefix)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout: rate must be in [0, 1), got {rate}.");
        Rate = rate;
    }

    public double Rate { get; }

    public override NDArray Forward(NDArray x) => Rate == 0 ? x.Copy() : Nd.Dropout(x, Rate);

    public override string ToString() => $"Dropout(p = {Rate}, axes=())";
}
