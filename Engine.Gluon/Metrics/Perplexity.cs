namespace Engine.Gluon.Metrics;

/// <summary>
/// Perplexity, MXNet's <c>Perplexity(ignore_label, axis=-1)</c>, named <c>perplexity</c>: exp of the mean of
/// -log(max(p[label], 1e-10)) over every label, where predictions hold probabilities with the classes on
/// <see cref="Axis"/> (apply softmax to scores first) and there is one label per prediction row. Labels equal to
/// <see cref="IgnoreLabel"/> (padding) count neither in the sum nor in the number of instances.
/// </summary>
public sealed class Perplexity(int? ignoreLabel, int axis = -1, string name = "perplexity") : EvalMetric(name)
{
    public int? IgnoreLabel { get; } = ignoreLabel;

    public int Axis { get; } = axis;

    protected override double Value => NumInstances == 0 ? double.NaN : Math.Exp(SumMetric / NumInstances);

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        if (pred.Rank == 0 || Axis < -pred.Rank || Axis >= pred.Rank)
            throw new ArgumentException(
                $"Perplexity: axis {Axis} is out of range for predictions of shape {pred.Shape}; give probabilities " +
                $"with the classes on axis {Axis}.");
        int axis = pred.Shape.NormalizeAxis(Axis, "Perplexity");
        int classes = pred.Shape[axis];
        using var scope = NDArray.Scope();
        var moved = axis == pred.Rank - 1 ? pred
            : pred.Transpose(Enumerable.Range(0, pred.Rank).Where(a => a != axis).Append(axis).ToArray());
        var probs = Values(moved);
        var labels = Values(label);
        CheckCounts(labels.Length, label.Shape, probs.Length / Math.Max(classes, 1),
            $"the rows of predictions {pred.Shape} (classes on axis {Axis})");
        double loss = 0;
        long count = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            long target = (long)labels[r];
            if (IgnoreLabel is { } ignore && target == ignore) continue;
            if (target < 0 || target >= classes)
                throw new ArgumentException(
                    $"Perplexity: label {labels[r]} at {r} is not a class index of predictions {pred.Shape} (0 to " +
                    $"{classes - 1}){(IgnoreLabel is null ? "; set ignoreLabel to skip padding" : "")}.");
            loss -= Math.Log(Math.Max(1e-10, probs[(long)r * classes + target]));
            count++;
        }
        SumMetric += loss;
        NumInstances += count;
    }
}
