namespace Engine.Gluon.LRSchedulers;

/// <summary>
/// Cosine decay from BaseLR to <see cref="FinalLR"/> over the updates after warmup: MXNet's
/// <c>CosineScheduler</c>. For WarmupSteps &lt;= n &lt;= MaxUpdate the rate is
/// <c>FinalLR + (BaseLR - FinalLR) * (1 + cos(pi * (n - WarmupSteps) / (MaxUpdate - WarmupSteps))) / 2</c>;
/// after MaxUpdate it stays at FinalLR.
/// </summary>
public sealed class CosineScheduler : LRScheduler
{
    public CosineScheduler(int maxUpdate, double baseLR = 0.01, double finalLR = 0, int warmupSteps = 0,
        double warmupBeginLR = 0, WarmupMode warmupMode = WarmupMode.Linear)
        : base(baseLR, warmupSteps, warmupBeginLR, warmupMode)
    {
        CheckMaxUpdate(nameof(CosineScheduler), maxUpdate, warmupSteps);
        if (!double.IsFinite(finalLR) || finalLR < 0)
            throw new ArgumentOutOfRangeException(nameof(finalLR), finalLR,
                $"CosineScheduler: finalLR must be a finite number >= 0, got {finalLR}.");
        MaxUpdate = maxUpdate;
        FinalLR = finalLR;
    }

    /// <summary>The update at which the rate reaches FinalLR.</summary>
    public int MaxUpdate { get; }

    public double FinalLR { get; }

    protected override double GetLearningRateCore(int numUpdate)
    {
        if (numUpdate > MaxUpdate) return FinalLR;
        double progress = (double)(numUpdate - WarmupSteps) / (MaxUpdate - WarmupSteps);
        return FinalLR + (BaseLR - FinalLR) * (1 + Math.Cos(Math.PI * progress)) / 2;
    }
}
