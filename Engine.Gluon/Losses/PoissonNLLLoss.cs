namespace Engine.Gluon.Losses;

/// <summary>
/// The negative log-likelihood of a Poisson target (MXNet's PoissonNLLLoss): exp(pred) - target * pred when
/// <see cref="FromLogits"/> (pred is the log of the rate; the default), else pred - target * log(pred + 1e-8).
/// <see cref="ComputeFull"/> adds Stirling's approximation of log(target!), target log(target) - target +
/// 0.5 log(2 pi target), where target &gt; 1 (0 elsewhere). As in MXNet, the result is the mean over every element,
/// of shape (1,), not one value per sample.
/// </summary>
/// <remarks>MXNet evaluates the Stirling term as target * log(target) times a mask, which is NaN for a target of
/// 0; here the term is evaluated on max(target, 1), so it is 0 there, as PyTorch's PoissonNLLLoss(full=True).
/// </remarks>
public class PoissonNLLLoss(double? weight = null, bool fromLogits = true, int batchAxis = 0,
    bool computeFull = false, string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    private const string LossName = "PoissonNLLLoss";

    public bool FromLogits { get; } = fromLogits;

    public bool ComputeFull { get; } = computeFull;

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        var target = LabelLike(label, pred, LossName, "target");
        var loss = FromLogits ? Nd.Exp(pred) - target * pred : pred - target * Nd.Log(pred + 1e-8);
        if (ComputeFull)
        {
            var t = Nd.Maximum(target, 1);
            var stirling = t * Nd.Log(t) - t + 0.5 * Nd.Log(t * (2 * Math.PI));
            loss = loss + stirling * (target > 1);
        }
        return scope.Keep(loss);
    }

    /// <summary>The mean over all elements, shape (1,) as MXNet's F.mean(loss).</summary>
    protected override NDArray Reduce(NDArray loss)
    {
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Mean(loss).Reshape(1));
    }
}
