namespace Engine.Gluon.LRSchedulers;

/// <summary>
/// Polynomial decay from BaseLR to <see cref="FinalLR"/> over the updates after warmup: MXNet's
/// <c>PolyScheduler</c>. For WarmupSteps &lt;= n &lt;= MaxUpdate the rate is
/// <c>FinalLR + (BaseLR - FinalLR) * (1 - (n - WarmupSteps) / (MaxUpdate - WarmupSteps))^Power</c>;
/// after MaxUpdate it stays at FinalLR.
/// </summary>
public sealed class PolyScheduler : LRScheduler
{
    public PolyScheduler(int maxUpdate, double baseLR = 0.01, double power = 2, double finalLR = 0,
        int warmupSteps = 0, double warmupBeginLR = 0, WarmupMode warmupMode = WarmupMode.Linear)
        : base(baseLR, warmupSteps, warmupBeginLR, warmupMode)
    {
        CheckMaxUpdate(nameof(PolyScheduler), maxUpdate, warmupSteps);
        if (!double.IsFinite(power) || power < 0)
            throw new ArgumentOutOfRangeException(nameof(power), power,
                $"PolyScheduler: power must be a finite number >= 0, got {power}.");
        if (!double.IsFinite(finalLR) || finalLR < 0)
            throw new ArgumentOutOfRangeException(nameof(finalLR), finalLR,
                $"PolyScheduler: finalLR must be a finite number >= 0, got {finalLR}.");
        MaxUpdate = maxUpdate;
        Power = power;
        FinalLR = finalLR;
    }

    public int MaxUpdate { get; }

    /// <summary>The exponent of the decay (MXNet's <c>pwr</c>).</summary>
    public double Power { get; }

    public double FinalLR { get; }

    protected override double GetLearningRateCore(int numUpdate)
    {
        if (numUpdate > MaxUpdate) return FinalLR;
        double remaining = 1 - (double)(numUpdate - WarmupSteps) / (MaxUpdate - WarmupSteps);
        return FinalLR + (BaseLR - FinalLR) * Math.Pow(remaining, Power);
    }
}
