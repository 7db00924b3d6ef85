namespace Engine.Gluon.Losses;

/// <summary>Half the squared error, 0.5 (pred - label)^2 (MXNet's L2Loss, whose weight defaults to 1 and is
/// halved).</summary>
public class L2Loss(double? weight = 1.0, int batchAxis = 0, string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Square(pred - LabelLike(label, pred, "L2Loss")) * 0.5);
    }
}
