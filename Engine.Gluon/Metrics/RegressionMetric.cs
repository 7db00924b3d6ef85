namespace Engine.Gluon.Metrics;

/// <summary>
/// The shared update of MAE, MSE and RMSE (MXNet 1.x): a 1-D label or prediction becomes a column (n, 1), the
/// two broadcast as NumPy does, and each label array adds the mean of its batch's errors as one instance, so the
/// value is the mean over Update calls of the per-batch error, not a mean over elements.
/// </summary>
public abstract class RegressionMetric(string name) : EvalMetric(name)
{
    /// <summary>The batch's value from its elementwise differences label - pred.</summary>
    private protected abstract double BatchValue(double[] differences);

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        using var scope = NDArray.Scope();
        var l = Column(label.AsType(DType.Float64));
        var p = Column(pred.AsType(DType.Float64));
        NDArray difference;
        try
        {
            difference = l - p;
        }
        catch (ArgumentException)
        {
            throw new ArgumentException(
                $"{GetType().Name}: labels {label.Shape} and predictions {pred.Shape} do not broadcast together " +
                "(1-D arrays count as columns (n, 1)); give predictions shaped like the labels.");
        }
        SumMetric += BatchValue(Values(difference));
        NumInstances += 1;
    }

    private static NDArray Column(NDArray x) => x.Rank == 1 ? x.Reshape(x.Shape[0], 1) : x;
}
