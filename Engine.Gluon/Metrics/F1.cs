namespace Engine.Gluon.Metrics;

/// <summary>
/// The F1 score of binary classification, MXNet 1.x's <c>F1(average='macro')</c>, named <c>f1</c>: 2 P R / (P + R)
/// of the positive class (0 when P + R = 0). Macro (the default) averages the F1 of each Update call; Micro
/// accumulates the counts, which gives the F1 of the positive class over everything seen (scikit-learn's
/// average='binary'). See <see cref="BinaryClassificationMetric"/> for the inputs.
/// </summary>
public sealed class F1(string name = "f1", MetricAverage average = MetricAverage.Macro)
    : BinaryClassificationMetric(name, average)
{
    private protected override double Score() => Precision + Recall > 0
        ? 2 * Precision * Recall / (Precision + Recall) : 0;
}
