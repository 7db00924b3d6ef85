namespace Engine.Gluon.LRSchedulers;

/// <summary>
/// Multiplies the rate by <see cref="Factor"/> once each listed step is passed: MXNet's
/// <c>MultiFactorScheduler</c>. With steps [s0, s1, ...], updates 1..s0 use BaseLR, s0+1..s1 use BaseLR*Factor,
/// and so on.
/// </summary>
public sealed class MultiFactorScheduler : LRScheduler
{
    private readonly int[] steps;

    public MultiFactorScheduler(int[] steps, double factor = 1, double baseLR = 0.01, int warmupSteps = 0,
        double warmupBeginLR = 0, WarmupMode warmupMode = WarmupMode.Linear)
        : base(baseLR, warmupSteps, warmupBeginLR, warmupMode)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Length == 0)
            throw new ArgumentException("MultiFactorScheduler: steps is empty; give at least one update number.",
                nameof(steps));
        for (int i = 0; i < steps.Length; i++)
        {
            if (steps[i] < 1)
                throw new ArgumentOutOfRangeException(nameof(steps), steps[i],
                    $"MultiFactorScheduler: steps[{i}] is {steps[i]}; every step must be >= 1.");
            if (i > 0 && steps[i] <= steps[i - 1])
                throw new ArgumentException(
                    $"MultiFactorScheduler: steps must increase strictly, but steps[{i - 1}] = {steps[i - 1]} and " +
                    $"steps[{i}] = {steps[i]}; sort them and remove duplicates.", nameof(steps));
        }
        CheckFactor(nameof(MultiFactorScheduler), factor);
        this.steps = (int[])steps.Clone();
        Factor = factor;
    }

    /// <summary>The update numbers after which the rate decays.</summary>
    public IReadOnlyList<int> Steps => steps;

    public double Factor { get; }

    protected override double GetLearningRateCore(int numUpdate)
    {
        double lr = BaseLR;
        // One multiplication per passed step, in order, as MXNet accumulates it.
        for (int i = 0; i < steps.Length && numUpdate > steps[i]; i++) lr *= Factor;
        return lr;
    }
}
