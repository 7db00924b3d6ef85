namespace Engine.Gluon.Metrics;

/// <summary>Root mean squared error, MXNet's <c>RMSE</c>, named <c>rmse</c>: the mean over Update calls of each
/// batch's sqrt(mean (label - pred)^2), so not the root of the overall MSE (see <see cref="RegressionMetric"/>).
/// </summary>
public sealed class RMSE(string name = "rmse") : RegressionMetric(name)
{
    private protected override double BatchValue(double[] d) =>
        d.Length == 0 ? double.NaN : Math.Sqrt(d.Average(x => x * x));
}
