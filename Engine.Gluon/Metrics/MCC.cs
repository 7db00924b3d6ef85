namespace Engine.Gluon.Metrics;

/// <summary>
/// The Matthews correlation coefficient of binary classification, MXNet 1.x's <c>MCC(average='macro')</c>, named
/// <c>mcc</c>: (tp tn - fp fn) / sqrt of the product of the non-zero terms among (tp + fp), (tp + fn), (tn + fp),
/// (tn + fn), as MXNet computes it (so a batch of one class gives 0, not NaN), and 0 with no examples. Macro
/// averages the MCC of each Update call; Micro accumulates the counts.
/// </summary>
public sealed class MCC(string name = "mcc", MetricAverage average = MetricAverage.Macro)
    : BinaryClassificationMetric(name, average)
{
    private protected override double Score()
    {
        if (TotalExamples == 0) return 0;
        double tp = TruePositives, fp = FalsePositives, fn = FalseNegatives, tn = TrueNegatives;
        double denominator = 1;
        foreach (var term in new[] { tp + fp, tp + fn, tn + fp, tn + fn })
            if (term != 0) denominator *= term;
        return (tp * tn - fp * fn) / Math.Sqrt(denominator);
    }
}
