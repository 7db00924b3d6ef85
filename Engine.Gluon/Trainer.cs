using Engine.Gluon.Optimizers;

namespace Engine.Gluon;

/// <summary>
/// Applies an optimizer to a set of parameters (MXNet's gluon.Trainer). <see cref="Step"/> rescales gradients by
/// 1/batchSize and updates every parameter whose grad_req is not null; a gradient that backward has not refreshed
/// since the last step is an error unless ignoreStaleGrad.
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

    /// <summary>One optimisation step: gradients are divided by <paramref name="batchSize"/>.</summary>
    public void Step(int batchSize, bool ignoreStaleGrad = false)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"Trainer.Step: batch size must be positive, got {batchSize}.");
        Optimizer.RescaleGrad = baseRescale / batchSize;
        Update(ignoreStaleGrad);
    }

    private void Update(bool ignoreStaleGrad)
    {
        // Every parameter is checked before any is updated: a step that fails leaves all of them as they were.
        var ready = new List<int>(parameters.Count);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.GradReq == GradReq.Null) continue;
            if (!p.IsInitialized)
                throw new InvalidOperationException(
                    $"Trainer: parameter '{p.Name}' is not initialized; call Initialize() and run a forward pass first.");
            if (!p.FreshGrad)
            {
                if (ignoreStaleGrad) continue;
                throw new InvalidOperationException(
                    $"Gradient of Parameter `{p.Name}` on context {p.Data().Device} has not been updated by backward " +
                    "since last `step`. This could mean a bug in your model that made it only use a subset of the " +
                    "Parameters (Blocks) for this iteration. If you are intentionally only using a subset, call " +
                    "Step with ignoreStaleGrad: true to suppress this warning and skip updating of Parameters with " +
                    "stale gradient.");
            }
            ready.Add(i);
        }
        foreach (int i in ready)
        {
            var p = parameters[i];
            Optimizer.Update(i, p.Data(), p.Grad(), p.LrMult, p.WdMult);
            p.FreshGrad = false;
        }
    }

    public void SaveStates(string path) => Optimizer.SaveStates(path);

    public void LoadStates(string path) => Optimizer.LoadStates(path);
}
