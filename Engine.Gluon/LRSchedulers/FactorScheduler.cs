namespace Engine.Gluon.LRSchedulers;

/// <summary>
/// Multiplies the rate by <see cref="Factor"/> every <see cref="Step"/> updates, never below
/// <see cref="StopFactorLR"/>: MXNet's <c>FactorScheduler</c>. The rate for update n is BaseLR decayed
/// k = floor((n - 1) / Step) times, so updates 1..Step use BaseLR, Step+1..2*Step use BaseLR*Factor, and so on.
/// </summary>
public sealed class FactorScheduler : LRScheduler
{
    // The last rate computed, so that a training loop (numUpdate growing by one) costs O(1) per call while the
    // rate is still computed as MXNet does it: one multiplication and clamp per decay step, in order.
    private sealed record Decayed(double BaseLR, int Steps, double LR);

    private Decayed last;

    public FactorScheduler(int step, double factor = 1, double stopFactorLR = 1e-8, double baseLR = 0.01,
        int warmupSteps = 0, double warmupBeginLR = 0, WarmupMode warmupMode = WarmupMode.Linear)
        : base(baseLR, warmupSteps, warmupBeginLR, warmupMode)
    {
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step,
                $"FactorScheduler: step (updates between decays) must be >= 1, got {step}.");
        CheckFactor(nameof(FactorScheduler), factor);
        if (!double.IsFinite(stopFactorLR) || stopFactorLR < 0)
            throw new ArgumentOutOfRangeException(nameof(stopFactorLR), stopFactorLR,
                $"FactorScheduler: stopFactorLR must be a finite number >= 0, got {stopFactorLR}.");
        Step = step;
        Factor = factor;
        StopFactorLR = stopFactorLR;
        last = new Decayed(baseLR, 0, baseLR);
    }

    /// <summary>Updates between two decays.</summary>
    public int Step { get; }

    /// <summary>The multiplier applied at each decay, in [0, 1].</summary>
    public double Factor { get; }

    /// <summary>The floor the decayed rate stops at.</summary>
    public double StopFactorLR { get; }

    protected override double GetLearningRateCore(int numUpdate)
    {
        int steps = Math.Max(0, (numUpdate - 1) / Step);
        var from = last;
        if (from.BaseLR != BaseLR || from.Steps > steps) from = new Decayed(BaseLR, 0, BaseLR);
        double lr = from.LR;
        for (int i = from.Steps; i < steps; i++)
        {
            double next = lr * Factor;
            if (next < StopFactorLR) next = StopFactorLR;
            if (next == lr) break;  // a fixed point (the floor, or Factor 1): later steps change nothing
            lr = next;
        }
        last = new Decayed(BaseLR, steps, lr);
        return lr;
    }
}
