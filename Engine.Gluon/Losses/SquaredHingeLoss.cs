namespace Engine.Gluon.Losses;

/// <summary>The squared hinge loss (MXNet's SquaredHingeLoss): max(0, margin - pred * label)^2, labels -1 or 1.
/// </summary>
public class SquaredHingeLoss : Loss
{
    public SquaredHingeLoss(double margin = 1, double? weight = null, int batchAxis = 0, string? prefix = null)
        : base(weight, batchAxis, prefix)
    {
        Margin = HingeLoss.CheckMargin(margin, "SquaredHingeLoss");
    }

    public double Margin { get; }

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        RequireFloat(pred, "SquaredHingeLoss");
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Square(Nd.Relu(Margin - pred * LabelLike(label, pred, "SquaredHingeLoss"))));
    }
}
