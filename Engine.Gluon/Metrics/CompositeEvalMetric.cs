using System.Globalization;

namespace Engine.Gluon.Metrics;

/// <summary>
/// Several metrics updated together, MXNet's <c>CompositeEvalMetric</c>, named <c>composite</c>:
/// <see cref="Update(IReadOnlyList{NDArray}?, IReadOnlyList{NDArray})"/> and <see cref="Reset"/> go to every child,
/// and <see cref="Get"/> returns the children's names and values in order (a child composite's flattened in).
/// </summary>
public sealed class CompositeEvalMetric : EvalMetric
{
    private readonly List<EvalMetric> metrics = [];

    public CompositeEvalMetric(IEnumerable<EvalMetric>? metrics = null, string name = "composite") : base(name)
    {
        foreach (var m in metrics ?? []) Add(m);
    }

    /// <summary>The children, in the order they were added.</summary>
    public IReadOnlyList<EvalMetric> Metrics => metrics;

    /// <summary>Adds a child metric.</summary>
    public void Add(EvalMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        if (ReferenceEquals(metric, this))
            throw new ArgumentException("CompositeEvalMetric: a composite cannot contain itself.", nameof(metric));
        metrics.Add(metric);
    }

    /// <summary>The child at <paramref name="index"/>.</summary>
    public EvalMetric GetMetric(int index) => index >= 0 && index < metrics.Count
        ? metrics[index]
        : throw new ArgumentOutOfRangeException(nameof(index),
            $"CompositeEvalMetric: metric index {index} is out of range 0 and {metrics.Count}.");

    /// <summary>The names and values of every child, in order (MXNet's get()).</summary>
    public new (string[] Names, double[] Values) Get()
    {
        var pairs = GetNameValue();
        return (pairs.Select(p => p.Name).ToArray(), pairs.Select(p => p.Value).ToArray());
    }

    public override IReadOnlyList<(string Name, double Value)> GetNameValue() =>
        metrics.SelectMany(m => m.GetNameValue()).ToList();

    /// <summary>A composite has no single value: NaN (read the children's with <see cref="Get"/>).</summary>
    protected override double Value => double.NaN;

    protected override void UpdateCore(IReadOnlyList<NDArray>? labels, IReadOnlyList<NDArray> preds)
    {
        foreach (var m in metrics) m.Update(labels, preds);
    }

    protected override void UpdatePair(NDArray label, NDArray pred) =>
        throw new InvalidOperationException("CompositeEvalMetric updates its children, never a pair itself.");

    public override void Reset()
    {
        base.Reset();
        foreach (var m in metrics) m.Reset();
    }

    public override string ToString() => "EvalMetric: {" + string.Join(", ", GetNameValue().Select(p =>
        $"'{p.Name}': {p.Value.ToString("R", CultureInfo.InvariantCulture)}")) + "}";
}
