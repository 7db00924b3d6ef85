namespace Engine.Gluon.Losses;

/// <summary>
/// The Kullback-Leibler divergence (MXNet's KLDivLoss): label * (log(label + 1e-12) - pred), where pred holds
/// log-probabilities when <see cref="FromLogits"/> (the default), else unnormalised scores to which log_softmax
/// over <see cref="Axis"/> is applied first. PyTorch's KLDivLoss(reduction='none') is the same without the 1e-12.
/// </summary>
public class KLDivLoss(bool fromLogits = true, int axis = -1, double? weight = null, int batchAxis = 0,
    string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    private const string LossName = "KLDivLoss";

    public bool FromLogits { get; } = fromLogits;

    public int Axis { get; } = axis;

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        var target = LabelLike(label, pred, LossName);
        var logp = FromLogits ? pred : Nd.LogSoftmax(pred, pred.Shape.NormalizeAxis(Axis, LossName));
        return scope.Keep(target * (Nd.Log(target + 1e-12) - logp));
    }
}
