namespace Engine.Gluon.Metrics;

/// <summary>Mean absolute error, MXNet's <c>MAE</c>, named <c>mae</c>: the mean over Update calls of each
/// batch's mean |label - pred| (see <see cref="RegressionMetric"/>).</summary>
public sealed class MAE(string name = "mae") : RegressionMetric(name)
{
    private protected override double BatchValue(double[] d) => d.Length == 0 ? double.NaN : d.Average(Math.Abs);
}
