namespace Engine.Gluon.Losses;

/// <summary>The hinge loss of SVMs (MXNet's HingeLoss): max(0, margin - pred * label), labels -1 or 1.</summary>
public class HingeLoss : Loss
{
    public HingeLoss(double margin = 1, double? weight = null, int batchAxis = 0, string? prefix = null)
        : base(weight, batchAxis, prefix)
    {
        Margin = CheckMargin(margin, "HingeLoss");
    }

    public double Margin { get; }

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        RequireFloat(pred, "HingeLoss");
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Relu(Margin - pred * LabelLike(label, pred, "HingeLoss")));
    }

    internal static double CheckMargin(double margin, string loss) => double.IsFinite(margin)
        ? margin
        : throw new ArgumentOutOfRangeException(nameof(margin),
            $"{loss}: margin must be a finite number, got {margin}.");
}
