namespace Engine.Gluon.Metrics;

/// <summary>
/// The fraction of samples whose label is among the <see cref="TopK"/> highest scores: MXNet's
/// <c>TopKAccuracy(top_k)</c>, named <c>top_k_accuracy_K</c>. Predictions are (batch, classes) scores. Ties
/// rank as a stable descending sort would: an equal score at a lower class index ranks first.
/// </summary>
public sealed class TopKAccuracy : EvalMetric
{
    public TopKAccuracy(int topK = 5, string name = "top_k_accuracy") : base($"{name}_{topK}")
    {
        if (topK <= 1)
            throw new ArgumentOutOfRangeException(nameof(topK),
                $"TopKAccuracy: topK must be more than 1, got {topK}; use Accuracy for top-1.");
        TopK = topK;
    }

    public int TopK { get; }

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        if (pred.Rank != 2)
            throw new ArgumentException(
                $"TopKAccuracy: predictions must be (batch, classes) scores, got shape {pred.Shape}.");
        int batch = pred.Shape[0], classes = pred.Shape[1];
        var labels = Values(label);
        CheckCounts(labels.Length, label.Shape, batch, $"the {batch} rows of predictions {pred.Shape}");
        var scores = Values(pred);
        long correct = 0;
        for (int r = 0; r < batch; r++)
        {
            long target = (long)labels[r];
            if (target < 0 || target >= classes)
                throw new ArgumentException(
                    $"TopKAccuracy: label {labels[r]} of row {r} is not a class index of predictions {pred.Shape} " +
                    $"(0 to {classes - 1}).");
            var row = scores.AsSpan(r * classes, classes);
            double s = row[(int)target];
            int rank = 0;
            for (int c = 0; c < classes; c++)
                if (row[c] > s || (row[c] == s && c < target)) rank++;
            if (rank < TopK) correct++;
        }
        SumMetric += correct;
        NumInstances += batch;
    }
}
