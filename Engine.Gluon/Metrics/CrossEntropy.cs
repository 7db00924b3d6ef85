namespace Engine.Gluon.Metrics;

/// <summary>
/// The mean of -log(p[label] + eps) over samples, where predictions are (batch, classes) probabilities (apply
/// softmax to scores first): MXNet's <c>CrossEntropy(eps=1e-12)</c>, named <c>cross-entropy</c>.
/// </summary>
public sealed class CrossEntropy : EvalMetric
{
    public CrossEntropy(double eps = 1e-12, string name = "cross-entropy") : base(name)
    {
        if (!(eps >= 0) || double.IsInfinity(eps))
            throw new ArgumentOutOfRangeException(nameof(eps),
                $"CrossEntropy: eps must be finite and >= 0, got {eps}.");
        Eps = eps;
    }

    public double Eps { get; }

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        if (pred.Rank != 2)
            throw new ArgumentException(
                $"CrossEntropy: predictions must be (batch, classes) probabilities, got shape {pred.Shape}.");
        int batch = pred.Shape[0], classes = pred.Shape[1];
        var labels = Values(label);
        CheckCounts(labels.Length, label.Shape, batch, $"the {batch} rows of predictions {pred.Shape}");
        var probs = Values(pred);
        double sum = 0;
        for (int r = 0; r < batch; r++)
        {
            long target = (long)labels[r];
            if (target < 0 || target >= classes)
                throw new ArgumentException(
                    $"CrossEntropy: label {labels[r]} of row {r} is not a class index of predictions {pred.Shape} " +
                    $"(0 to {classes - 1}).");
            sum += -Math.Log(probs[r * classes + target] + Eps);
        }
        SumMetric += sum;
        NumInstances += batch;
    }
}
