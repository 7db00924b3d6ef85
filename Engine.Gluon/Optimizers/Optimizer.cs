using Engine.Gluon.LRSchedulers;

namespace Engine.Gluon.Optimizers;

/// <summary>
/// Updates weights from their gradients, MXNet 1.x's <c>mx.optimizer.Optimizer</c>. A Trainer calls
/// <see cref="Update"/> once per parameter and step with the parameter's index, weight, gradient and multipliers;
/// the optimizer keeps per-index state (momentum, moment estimates), created on the first update of each index
/// with the weight's shape, dtype and device, and counts updates for bias correction and learning rate schedules.
/// </summary>
/// <remarks>
/// Every update first scales the gradient by <see cref="RescaleGrad"/> (a Trainer sets 1 / batchSize), clips it to
/// [-ClipGradient, ClipGradient] when <see cref="ClipGradient"/> is set, and applies weight decay where each
/// optimizer's MXNet kernel applies it (see the optimizer's summary). Hyperparameters particular to an optimizer
/// (momentum, betas, ...) are fixed at construction; the common ones below may change between steps.
/// </remarks>
public abstract partial class Optimizer
{
    private readonly Dictionary<int, NDArray[]> states = new();
    private readonly Dictionary<int, int> updateCounts = new();
    private readonly double? explicitLearningRate;
    private double learningRate;
    private double weightDecay;
    private double rescaleGrad = 1;
    private double? clipGradient;
    private LRScheduler? lrScheduler;
    private int beginNumUpdate;

    /// <param name="learningRate">The rate given by the user, or null for the default (and, with a scheduler, the
    /// scheduler's own base rate).</param>
    /// <param name="defaultLearningRate">This optimizer's default rate (MXNet's).</param>
    /// <param name="wd">Weight decay.</param>
    protected Optimizer(double? learningRate, double defaultLearningRate, double wd)
    {
        if (learningRate is double lr) CheckLearningRate(lr, nameof(learningRate));
        explicitLearningRate = learningRate;
        this.learningRate = learningRate ?? defaultLearningRate;
        WeightDecay = wd;
    }

    /// <summary>The registry name (<c>sgd</c>, <c>adam</c>, ...), as <see cref="Create"/> takes it.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The learning rate of the next update: the scheduler's rate at <see cref="NumUpdate"/> when an
    /// <see cref="LRScheduler"/> is attached, else the static rate. Setting it with a scheduler attached is an error,
    /// as in MXNet (set the scheduler's BaseLR instead).
    /// </summary>
    public double LearningRate
    {
        get => lrScheduler?.GetLearningRate(NumUpdate) ?? learningRate;
        set
        {
            if (lrScheduler is not null)
                throw new InvalidOperationException(
                    $"{GetType().Name}: the learning rate comes from its {lrScheduler.GetType().Name}; set " +
                    "LRScheduler.BaseLR instead, or detach the scheduler (LRScheduler = null) to set a static rate.");
            CheckLearningRate(value, nameof(value));
            learningRate = value;
        }
    }

    /// <summary>Weight decay (MXNet's <c>wd</c>), the L2 penalty coefficient; a parameter's wdMult scales it.</summary>
    public double WeightDecay
    {
        get => weightDecay;
        set
        {
            if (!double.IsFinite(value) || value < 0)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"{GetType().Name}: WeightDecay (wd) must be a finite number >= 0, got {value}.");
            weightDecay = value;
        }
    }

    /// <summary>The factor every gradient is multiplied by first; a Trainer sets it to 1 / batchSize.</summary>
    public double RescaleGrad
    {
        get => rescaleGrad;
        set
        {
            if (!double.IsFinite(value))
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"{GetType().Name}: RescaleGrad must be a finite number, got {value}.");
            rescaleGrad = value;
        }
    }

    /// <summary>Clips each rescaled gradient element to [-ClipGradient, ClipGradient]; null: no clipping.</summary>
    public double? ClipGradient
    {
        get => clipGradient;
        set
        {
            if (value is double c && (!double.IsFinite(c) || c <= 0))
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"{GetType().Name}: ClipGradient must be a finite number > 0, got {c}; use null for no clipping.");
            clipGradient = value;
        }
    }

    /// <summary>
    /// A schedule for the learning rate, or null for a static rate. When the optimizer was given an explicit learning
    /// rate, attaching a scheduler sets the scheduler's BaseLR to it (MXNet's rule).
    /// </summary>
    public LRScheduler? LRScheduler
    {
        get => lrScheduler;
        set
        {
            if (value is not null && explicitLearningRate is double lr) value.BaseLR = lr;
            lrScheduler = value;
        }
    }

    /// <summary>
    /// The largest number of updates any index has received (MXNet's <c>num_update</c>); schedulers are evaluated
    /// at it. It starts at <see cref="BeginNumUpdate"/>.
    /// </summary>
    public int NumUpdate { get; private set; }

    /// <summary>
    /// The update count training resumes from (MXNet's <c>begin_num_update</c>): NumUpdate starts there and each
    /// index's count starts there. It can only be set before the first update.
    /// </summary>
    public int BeginNumUpdate
    {
        get => beginNumUpdate;
        set
        {
            if (value < 0)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"{GetType().Name}: BeginNumUpdate must be >= 0, got {value}.");
            if (updateCounts.Count > 0)
                throw new InvalidOperationException(
                    $"{GetType().Name}: BeginNumUpdate can only be set before the first update; " +
                    $"{updateCounts.Count} parameter(s) have already been updated.");
            beginNumUpdate = value;
            NumUpdate = value;
        }
    }

    /// <summary>The names of the state arrays each index keeps (empty for plain SGD), in order.</summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>The indices that have state or have been updated, in ascending order.</summary>
    public IReadOnlyList<int> Indices => updateCounts.Keys.Union(states.Keys).Order().ToArray();

    /// <summary>The state arrays of <paramref name="index"/> (named by <see cref="StateNames"/>), or null before its
    /// first update. The optimizer owns them; they change in place at every update.</summary>
    public IReadOnlyList<NDArray>? GetState(int index) => states.TryGetValue(index, out var s) ? s : null;

    /// <summary>How many times <paramref name="index"/> has been updated (counted from BeginNumUpdate; 0 if never).
    /// Adam's bias correction uses it.</summary>
    public int GetUpdateCount(int index) => updateCounts.TryGetValue(index, out int n) ? n : 0;

    /// <summary>
    /// Updates <paramref name="weight"/> in place from <paramref name="grad"/>. The learning rate is
    /// LearningRate * <paramref name="lrMult"/> and the weight decay WeightDecay * <paramref name="wdMult"/> (a
    /// parameter's lr_mult and wd_mult). Runs outside autograd recording.
    /// </summary>
    public void Update(int index, NDArray weight, NDArray grad, double lrMult = 1, double wdMult = 1)
    {
        CheckUpdateArguments(index, weight, grad, lrMult, wdMult);
        var state = GetOrCreateState(index, weight);
        int count = (updateCounts.TryGetValue(index, out int n) ? n : beginNumUpdate) + 1;
        updateCounts[index] = count;
        NumUpdate = Math.Max(NumUpdate, count);
        double lr = LearningRate * lrMult;
        double wd = WeightDecay * wdMult;
        using (Autograd.Pause())
        using (NDArray.Scope())
        {
            UpdateCore(weight, grad, state, lr, wd, count);
        }
    }

    /// <summary>
    /// Writes the new weight with <c>weight.Assign(...)</c> and updates <paramref name="state"/> in place. Runs inside
    /// an NDArray scope (temporaries are freed after) with recording paused.
    /// </summary>
    /// <param name="lr">The learning rate for this index (multiplier applied).</param>
    /// <param name="wd">The weight decay for this index (multiplier applied).</param>
    /// <param name="t">The number of this update of this index, from 1 (or BeginNumUpdate + 1).</param>
    protected abstract void UpdateCore(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state, double lr,
        double wd, int t);

    /// <summary>The gradient clipped to [-ClipGradient, ClipGradient], or unchanged without clipping.</summary>
    protected NDArray Clip(NDArray grad) => clipGradient is double c ? Nd.Clip(grad, -c, c) : grad;

    private void CheckUpdateArguments(int index, NDArray weight, NDArray grad, double lrMult, double wdMult)
    {
        string name = GetType().Name;
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(grad);
        if (weight.IsDisposed || grad.IsDisposed)
            throw new ObjectDisposedException(nameof(NDArray),
                $"{name}.Update(index {index}): the {(weight.IsDisposed ? "weight" : "gradient")} was disposed.");
        if (weight.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException(
                $"{name}.Update(index {index}): the weight is {weight.DType.Name()}; optimizers update float32 or " +
                "float64 weights. Cast the parameter to float32.", nameof(weight));
        if (grad.Shape != weight.Shape || grad.DType != weight.DType)
            throw new ArgumentException(
                $"{name}.Update(index {index}): the gradient is {grad.DType.Name()}{grad.Shape} but the weight is " +
                $"{weight.DType.Name()}{weight.Shape}; pass the gradient of this weight.", nameof(grad));
        if (grad.Device != weight.Device)
            throw new ArgumentException(
                $"{name}.Update(index {index}): the gradient is on {grad.Device} but the weight is on " +
                $"{weight.Device}; both must be on the same device.", nameof(grad));
        if (!double.IsFinite(lrMult) || lrMult < 0)
            throw new ArgumentOutOfRangeException(nameof(lrMult), lrMult,
                $"{name}.Update(index {index}): lrMult must be a finite number >= 0, got {lrMult}.");
        if (!double.IsFinite(wdMult) || wdMult < 0)
            throw new ArgumentOutOfRangeException(nameof(wdMult), wdMult,
                $"{name}.Update(index {index}): wdMult must be a finite number >= 0, got {wdMult}.");
    }

    private NDArray[] GetOrCreateState(int index, NDArray weight)
    {
        if (states.TryGetValue(index, out var state))
        {
            foreach (var s in state)
            {
                if (s.Shape != weight.Shape || s.DType != weight.DType || s.Device != weight.Device)
                    throw new InvalidOperationException(
                        $"{GetType().Name}.Update(index {index}): the state of this index was made for a " +
                        $"{s.DType.Name()}{s.Shape} weight on {s.Device}, but the weight is " +
                        $"{weight.DType.Name()}{weight.Shape} on {weight.Device}; an index must always name the " +
                        "same parameter (were states loaded from another model?).");
            }
            return state;
        }
        state = new NDArray[StateNames.Count];
        for (int i = 0; i < state.Length; i++) state[i] = Owned(Nd.Zeros(weight.Shape, weight.DType, weight.Device));
        states[index] = state;
        return state;
    }

    /// <summary>Takes an array out of the caller's NDArray scopes: the optimizer keeps it across steps.</summary>
    private static NDArray Owned(NDArray array)
    {
        return NDArrayScope.Release(array);
    }

    private void CheckLearningRate(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{GetType().Name}: the learning rate must be a finite number >= 0, got {value}.");
    }

    /// <summary>Checks a hyperparameter in [low, high) or [low, high].</summary>
    protected void CheckRange(double value, string what, double low, double high, bool highInclusive)
    {
        bool ok = double.IsFinite(value) && value >= low && (highInclusive ? value <= high : value < high);
        if (!ok)
            throw new ArgumentOutOfRangeException(what, value,
                $"{GetType().Name}: {what} must be in [{low}, {high}{(highInclusive ? "]" : ")")}, got {value}.");
    }
}
