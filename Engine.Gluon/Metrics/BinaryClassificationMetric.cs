namespace Engine.Gluon.Metrics;

/// <summary>
/// The confusion counts of binary classification shared by F1 and MCC (MXNet's _BinaryClassificationMetrics):
/// predictions are (batch, 2) scores whose argmax over axis 1 is the predicted class, labels are 0 or 1 (truncated
/// to integers). With <see cref="MetricAverage.Macro"/> each Update adds the metric of its own counts as one
/// instance; with <see cref="MetricAverage.Micro"/> the counts accumulate and the value is the metric of all of
/// them.
/// </summary>
public abstract class BinaryClassificationMetric : EvalMetric
{
    private protected BinaryClassificationMetric(string name, MetricAverage average) : base(name)
    {
        if (!Enum.IsDefined(average))
            throw new ArgumentOutOfRangeException(nameof(average),
                $"{GetType().Name}: average {(int)average} is neither Macro nor Micro.");
        Average = average;
    }

    public MetricAverage Average { get; }

    public long TruePositives { get; private set; }

    public long FalsePositives { get; private set; }

    public long FalseNegatives { get; private set; }

    public long TrueNegatives { get; private set; }

    public long TotalExamples => TruePositives + FalsePositives + FalseNegatives + TrueNegatives;

    /// <summary>tp / (tp + fp), 0 when nothing is predicted positive.</summary>
    public double Precision => TruePositives + FalsePositives > 0
        ? (double)TruePositives / (TruePositives + FalsePositives) : 0;

    /// <summary>tp / (tp + fn), 0 when no label is positive.</summary>
    public double Recall => TruePositives + FalseNegatives > 0
        ? (double)TruePositives / (TruePositives + FalseNegatives) : 0;

    /// <summary>The metric of the current counts.</summary>
    private protected abstract double Score();

    protected override void UpdateCore(IReadOnlyList<NDArray>? labels, IReadOnlyList<NDArray> preds)
    {
        base.UpdateCore(labels, preds);
        if (Average == MetricAverage.Macro)
        {
            SumMetric += Score();
            NumInstances += 1;
            ResetCounts();
        }
        else
        {
            SumMetric = Score() * TotalExamples;
            NumInstances = TotalExamples;
        }
    }

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        if (pred.Rank != 2 || pred.Shape[1] != 2)
            throw new ArgumentException(
                $"{GetType().Name}: predictions must be (batch, 2) scores of the classes 0 and 1, got shape " +
                $"{pred.Shape}; this metric only supports binary classification.");
        var labels = Values(label);
        CheckCounts(labels.Length, label.Shape, pred.Shape[0], $"the {pred.Shape[0]} rows of predictions {pred.Shape}");
        var scores = Values(pred);
        foreach (var v in labels)
        {
            long l = (long)v;
            if (l is not (0 or 1))
                throw new ArgumentException(
                    $"{GetType().Name}: label {v} is not 0 or 1; this metric only supports binary classification.");
        }
        for (int r = 0; r < labels.Length; r++)
        {
            // argmax, the first class on ties.
            bool predicted = scores[2 * r + 1] > scores[2 * r];
            bool actual = (long)labels[r] == 1;
            if (predicted && actual) TruePositives++;
            else if (predicted) FalsePositives++;
            else if (actual) FalseNegatives++;
            else TrueNegatives++;
        }
    }

    public override void Reset()
    {
        base.Reset();
        ResetCounts();
    }

    private void ResetCounts() => TruePositives = FalsePositives = FalseNegatives = TrueNegatives = 0;
}
