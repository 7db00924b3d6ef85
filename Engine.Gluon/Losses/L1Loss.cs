namespace Engine.Gluon.Losses;

/// <summary>The absolute error |pred - label| (MXNet's L1Loss).</summary>
public class L1Loss(double? weight = null, int batchAxis = 0, string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Abs(pred - LabelLike(label, pred, "L1Loss")));
    }
}
