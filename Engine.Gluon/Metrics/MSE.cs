namespace Engine.Gluon.Metrics;

/// <summary>Mean squared error, MXNet's <c>MSE</c>, named <c>mse</c>: the mean over Update calls of each batch's
/// mean (label - pred)^2 (see <see cref="RegressionMetric"/>).</summary>
public sealed class MSE(string name = "mse") : RegressionMetric(name)
{
    private protected override double BatchValue(double[] d) => d.Length == 0 ? double.NaN : d.Average(x => x * x);
}
