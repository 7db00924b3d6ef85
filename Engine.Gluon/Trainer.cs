using Engine.Gluon.Optimizers;

namespace Engine.Gluon;

/// <summary>
/// Applies an optimizer to a set of parameters (MXNet's gluon.Trainer). <see cref="Step"/> rescales gradients by
/// 1/batchSize and updates every parameter whose grad_req is not null; a gradient that backward has not refreshed
/// since the last step is an error unless ignoreStaleGrad. Parameters initialised on several devices
/// (data parallelism) have their gradients summed across the copies (<see cref="AllreduceGrads"/>, as MXNet's
/// kvstore 'device' does) and every copy updated alike, so the copies stay equal. The Trainer keeps the parameters
/// it was given: after replacing a child block, create a new Trainer from the new CollectParams().
/// </summary>
public sealed class Trainer
{
    private readonly List<Parameter> parameters;
    private readonly double baseRescale;

    public Trainer(ParameterDict parameters, Optimizer optimizer)
        : this(parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value), optimizer) { }

    public Trainer(ParameterDict parameters, string optimizer, Dictionary<string, object>? optimizerParams = null)
        : this(parameters, Optimizer.Create(optimizer, optimizerParams)) { }

    public Trainer(IEnumerable<Parameter> parameters, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        this.parameters = parameters.ToList();
        var duplicates = this.parameters.GroupBy(p => p, ReferenceEqualityComparer.Instance).Where(g => g.Count() > 1)
            .Select(g => ((Parameter)g.Key!).Name).ToList();
        if (duplicates.Count > 0)
            throw new ArgumentException(
                $"Trainer: parameter(s) {string.Join(", ", duplicates)} appear more than once; pass each once.");
        baseRescale = optimizer.RescaleGrad;
    }

    public Optimizer Optimizer { get; }

    public IReadOnlyList<Parameter> Parameters => parameters;

    public double LearningRate => Optimizer.LearningRate;

    public void SetLearningRate(double learningRate) => Optimizer.LearningRate = learningRate;

    /// <summary>One optimisation step: AllreduceGrads, then Update; gradients are divided by
    /// <paramref name="batchSize"/>.</summary>
    public void Step(int batchSize, bool ignoreStaleGrad = false)
    {
        CheckBatchSize(batchSize, "Step");
        var active = Validate(ignoreStaleGrad);
        Reduce(active);
        UpdateCore(active, batchSize);
    }

    /// <summary>
    /// Sums each parameter's gradients across its devices and writes the sum into every copy (MXNet's
    /// allreduce_grads; nothing to do on one device). With <see cref="Update"/> it is <see cref="Step"/> in two
    /// parts, for code that changes the summed gradients in between (clipping by global norm).
    /// </summary>
    public void AllreduceGrads() => Reduce(Validate(ignoreStaleGrad: true));

    /// <summary>The update half of <see cref="Step"/>: gradients (already reduced) divided by the batch size.</summary>
    public void Update(int batchSize, bool ignoreStaleGrad = false)
    {
        CheckBatchSize(batchSize, "Update");
        UpdateCore(Validate(ignoreStaleGrad), batchSize);
    }

    private static void CheckBatchSize(int batchSize, string method)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize),
                $"Trainer.{method}: batch size must be positive, got {batchSize}.");
    }

    /// <summary>
    /// The indices of the parameters to update, after checking all of them (so a failing step changes nothing):
    /// initialised, on one common set of devices, and with fresh gradients unless <paramref name="ignoreStaleGrad"/>.
    /// </summary>
    private List<int> Validate(bool ignoreStaleGrad)
    {
        var active = new List<int>();
        IReadOnlyList<Device>? devices = null;
        Parameter? first = null;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.GradReq == GradReq.Null) continue;
            if (!p.IsInitialized)
                throw new InvalidOperationException(
                    $"Trainer: parameter '{p.Name}' is not initialized; call Initialize() and run a forward pass " +
                    "first.");
            var mine = p.ListDevices();
            if (devices is null)
            {
                devices = mine;
                first = p;
            }
            else if (!mine.SequenceEqual(devices))
            {
                throw new InvalidOperationException(
                    $"All Parameters must be initialized on the same set of devices, but Parameter '{p.Name}' is " +
                    $"initialized on {DeviceList.Format(mine)} while Parameter '{first!.Name}' is initialized on " +
                    $"{DeviceList.Format(devices)}.");
            }
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.GradReq == GradReq.Null) continue;
            if (!p.FreshGrad)
            {
                if (ignoreStaleGrad) continue;
                throw new InvalidOperationException(
                    $"Gradient of Parameter `{p.Name}` on context {Where(p.ListDevices())} has not been updated by " +
                    "backward since last `step`. This could mean a bug in your model that made it only use a subset " +
                    "of the Parameters (Blocks) for this iteration. If you are intentionally only using a subset, " +
                    "call Step with ignoreStaleGrad: true to suppress this warning and skip updating of Parameters " +
                    "with stale gradient.");
            }
            active.Add(i);
        }
        return active;
    }

    private static string Where(IReadOnlyList<Device> devices) =>
        devices.Count == 1 ? devices[0].ToString() : DeviceList.Format(devices);

    private void Reduce(List<int> active)
    {
        using (Autograd.Pause())
        {
            foreach (int i in active)
            {
                var grads = parameters[i].ListGrad();
                if (grads.Count < 2) continue;
                using var sum = grads[0].Copy();
                for (int k = 1; k < grads.Count; k++)
                {
                    using var moved = grads[k].CopyTo(sum.Device);
                    using var next = sum + moved;
                    sum.Assign(next);
                }
                foreach (var g in grads)
                {
                    using var local = sum.CopyTo(g.Device);
                    g.Assign(local);
                }
            }
        }
    }

    private void UpdateCore(List<int> active, int batchSize)
    {
        Optimizer.RescaleGrad = baseRescale / batchSize;
        foreach (int i in active)
        {
            var p = parameters[i];
            var data = p.ListData();
            var grads = p.ListGrad();
            // One optimizer state per copy: index i on one device (as before), i * copies + k on several.
            for (int k = 0; k < data.Count; k++)
                Optimizer.Update(data.Count == 1 ? i : i * data.Count + k, data[k], grads[k], p.LrMult, p.WdMult);
            p.FreshGrad = false;
        }
    }

    public void SaveStates(string path) => Optimizer.SaveStates(path);

    public void LoadStates(string path) => Optimizer.LoadStates(path);
}
