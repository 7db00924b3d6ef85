namespace Engine.Gluon.LRSchedulers;

/// <summary>
/// A learning rate as a function of the number of updates, MXNet's <c>mx.lr_scheduler.LRScheduler</c>. An optimizer
/// with a scheduler asks it for the rate at every update, passing <c>NumUpdate</c> (the largest number of updates
/// any parameter has received, counted from 1).
/// </summary>
/// <remarks>
/// The first <see cref="WarmupSteps"/> updates (numUpdate below WarmupSteps) use the warmup rate: linear from
/// <see cref="WarmupBeginLR"/> to <see cref="BaseLR"/>, or constant at WarmupBeginLR; the schedule proper starts
/// after. Unlike MXNet's schedulers, which mutate themselves as they are called and never go back, these are pure
/// functions of numUpdate: asking for an earlier step gives that step's rate. During training numUpdate only grows,
/// so the rates are the same as MXNet's.
/// </remarks>
public abstract class LRScheduler
{
    private double baseLR;

    protected LRScheduler(double baseLR, int warmupSteps, double warmupBeginLR, WarmupMode warmupMode)
    {
        string name = GetType().Name;
        if (!double.IsFinite(baseLR) || baseLR < 0)
            throw new ArgumentOutOfRangeException(nameof(baseLR), baseLR,
                $"{name}: baseLR must be a finite number >= 0, got {baseLR}.");
        if (warmupSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps,
                $"{name}: warmupSteps must be >= 0 (0 for no warmup), got {warmupSteps}.");
        if (!double.IsFinite(warmupBeginLR) || warmupBeginLR < 0)
            throw new ArgumentOutOfRangeException(nameof(warmupBeginLR), warmupBeginLR,
                $"{name}: warmupBeginLR must be a finite number >= 0, got {warmupBeginLR}.");
        if (!Enum.IsDefined(warmupMode))
            throw new ArgumentOutOfRangeException(nameof(warmupMode), warmupMode,
                $"{name}: warmupMode must be WarmupMode.Linear or WarmupMode.Constant, got {(int)warmupMode}.");
        WarmupSteps = warmupSteps;
        WarmupBeginLR = warmupBeginLR;
        WarmupMode = warmupMode;
        BaseLR = baseLR;
    }

    /// <summary>
    /// The rate the schedule starts from (after warmup). An optimizer given an explicit learning rate sets it, as
    /// MXNet's optimizers overwrite <c>lr_scheduler.base_lr</c>.
    /// </summary>
    public double BaseLR
    {
        get => baseLR;
        set
        {
            if (!double.IsFinite(value) || value < 0)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"{GetType().Name}: BaseLR must be a finite number >= 0, got {value}.");
            if (WarmupSteps > 0 && WarmupBeginLR > value)
                throw new ArgumentException(
                    $"{GetType().Name}: BaseLR {value} is below WarmupBeginLR {WarmupBeginLR}; warmup must rise " +
                    "to the base rate, so give a base rate at least the warmup start (or a smaller warmupBeginLR).",
                    nameof(value));
            baseLR = value;
        }
    }

    /// <summary>Number of warmup updates (0: none).</summary>
    public int WarmupSteps { get; }

    /// <summary>The rate warmup starts from.</summary>
    public double WarmupBeginLR { get; }

    public WarmupMode WarmupMode { get; }

    /// <summary>The learning rate for update number <paramref name="numUpdate"/> (the optimizer's NumUpdate).</summary>
    public double GetLearningRate(int numUpdate)
    {
        if (numUpdate < 0)
            throw new ArgumentOutOfRangeException(nameof(numUpdate), numUpdate,
                $"{GetType().Name}: numUpdate counts updates and must be >= 0, got {numUpdate}.");
        return numUpdate < WarmupSteps ? GetWarmupLearningRate(numUpdate) : GetLearningRateCore(numUpdate);
    }

    /// <summary>The rate after warmup, for numUpdate &gt;= WarmupSteps.</summary>
    protected abstract double GetLearningRateCore(int numUpdate);

    private double GetWarmupLearningRate(int numUpdate) => WarmupMode switch
    {
        WarmupMode.Linear => WarmupBeginLR + (BaseLR - WarmupBeginLR) * numUpdate / WarmupSteps,
        _ => WarmupBeginLR,
    };

    /// <summary>Checks the step count of a decaying schedule against the warmup length.</summary>
    private protected static void CheckMaxUpdate(string name, int maxUpdate, int warmupSteps)
    {
        if (maxUpdate < 1)
            throw new ArgumentOutOfRangeException(nameof(maxUpdate), maxUpdate,
                $"{name}: maxUpdate must be >= 1, got {maxUpdate}.");
        if (maxUpdate <= warmupSteps)
            throw new ArgumentException(
                $"{name}: maxUpdate ({maxUpdate}) must be greater than warmupSteps ({warmupSteps}), since the " +
                "decay runs over the updates after warmup; raise maxUpdate or shorten the warmup.",
                nameof(maxUpdate));
    }

    private protected static void CheckFactor(string name, double factor)
    {
        if (!double.IsFinite(factor) || factor < 0 || factor > 1)
            throw new ArgumentOutOfRangeException(nameof(factor), factor,
                $"{name}: factor must be in [0, 1] so that the rate decreases, got {factor}.");
    }
}
