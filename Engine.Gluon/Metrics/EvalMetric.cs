using System.Globalization;

namespace Engine.Gluon.Metrics;

/// <summary>
/// A running evaluation metric: MXNet's <c>mx.metric.EvalMetric</c>. <see cref="Update(NDArray, NDArray)"/>
/// adds a batch, <see cref="Get"/> returns (name, value) with value = SumMetric / NumInstances (NaN before any
/// update), <see cref="Reset"/> starts over.
/// </summary>
/// <remarks>Metrics read values back to the host (outside autograd) and accumulate in double.</remarks>
public abstract class EvalMetric
{
    protected EvalMetric(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    public string Name { get; }

    /// <summary>The sum of the per-instance values so far.</summary>
    public double SumMetric { get; protected set; }

    /// <summary>The number of instances (samples or elements) so far.</summary>
    public long NumInstances { get; protected set; }

    /// <summary>Adds one batch: labels and predictions of that batch.</summary>
    public void Update(NDArray? labels, NDArray preds)
    {
        ArgumentNullException.ThrowIfNull(preds);
        Update(labels is null ? null : [labels], [preds]);
    }

    /// <summary>Adds several outputs at once: labels[i] goes with preds[i].</summary>
    public void Update(IReadOnlyList<NDArray>? labels, IReadOnlyList<NDArray> preds)
    {
        ArgumentNullException.ThrowIfNull(preds);
        using (Autograd.Pause()) UpdateCore(labels, preds);
    }

    /// <summary>Checks that labels pair with predictions and updates pair by pair.</summary>
    protected virtual void UpdateCore(IReadOnlyList<NDArray>? labels, IReadOnlyList<NDArray> preds)
    {
        if (labels is null)
            throw new ArgumentNullException(nameof(labels),
                $"{GetType().Name}: labels are null; pass the batch's labels with its predictions.");
        if (labels.Count != preds.Count)
            throw new ArgumentException(
                $"{GetType().Name}: {labels.Count} label array(s) but {preds.Count} prediction array(s); pass one " +
                "label array per prediction array.", nameof(labels));
        for (int i = 0; i < preds.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(labels[i], nameof(labels));
            ArgumentNullException.ThrowIfNull(preds[i], nameof(preds));
            UpdatePair(labels[i], preds[i]);
        }
    }

    /// <summary>Adds the values of one label array and its prediction array.</summary>
    protected abstract void UpdatePair(NDArray label, NDArray pred);

    /// <summary>(name, value); the value is NaN before the first update.</summary>
    public (string Name, double Value) Get() => (Name, Value);

    /// <summary>Every (name, value) the metric reports: one pair, or one per child of a composite (MXNet's
    /// get_name_value).</summary>
    public virtual IReadOnlyList<(string Name, double Value)> GetNameValue() => [Get()];

    /// <summary>The metric's value: SumMetric / NumInstances, NaN before the first update.</summary>
    protected virtual double Value => NumInstances == 0 ? double.NaN : SumMetric / NumInstances;

    /// <summary>Clears the running sums.</summary>
    public virtual void Reset()
    {
        SumMetric = 0;
        NumInstances = 0;
    }

    public override string ToString() =>
        $"EvalMetric: {{'{Name}': {Get().Value.ToString("R", CultureInfo.InvariantCulture)}}}";

    /// <summary>The values of an array as doubles, row-major.</summary>
    private protected static double[] Values(NDArray x) => x.ToArray<double>();

    /// <summary>Throws when a label count differs from a prediction count (MXNet's check_label_shapes).</summary>
    private protected void CheckCounts(long labels, Shape labelShape, long preds, string predsWhat)
    {
        if (labels != preds)
            throw new ArgumentException(
                $"{GetType().Name}: shape of labels {labelShape} ({labels} values) does not match {predsWhat} " +
                $"({preds} values); give one label per prediction.");
    }
}
