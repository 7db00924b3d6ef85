namespace Engine.Gluon.Losses;

/// <summary>
/// The smoothed L1 loss (MXNet's HuberLoss): with e = |label - pred|, e^2 / (2 rho) where e &lt;= rho, and
/// e - rho / 2 beyond. It equals PyTorch's SmoothL1Loss(beta=rho), and HuberLoss(delta=rho) divided by rho.
/// </summary>
public class HuberLoss : Loss
{
    private const string LossName = "HuberLoss";

    public HuberLoss(double rho = 1, double? weight = null, int batchAxis = 0, string? prefix = null)
        : base(weight, batchAxis, prefix)
    {
        if (!(rho > 0) || !double.IsFinite(rho))
            throw new ArgumentOutOfRangeException(nameof(rho),
                $"{LossName}: rho must be a finite number above 0, got {rho}; rho is where the loss turns from " +
                "quadratic to linear (MXNet's default is 1).");
        Rho = rho;
    }

    public double Rho { get; }

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        var e = Nd.Abs(LabelLike(label, pred, LossName) - pred);
        return scope.Keep(Nd.Where(e > Rho, e - 0.5 * Rho, Nd.Square(e) * (0.5 / Rho)));
    }
}
