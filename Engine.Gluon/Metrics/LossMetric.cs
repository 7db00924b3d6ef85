namespace Engine.Gluon.Metrics;

/// <summary>
/// The mean of loss values: MXNet's <c>mx.metric.Loss</c>, named LossMetric so that it does not collide with
/// the losses' base class <see cref="Losses.Loss"/> when both namespaces are imported. Each update adds the sum
/// of the given arrays' elements and their count; labels are ignored (<c>metric.Update(loss)</c>).
/// </summary>
public sealed class LossMetric(string name = "loss") : EvalMetric(name)
{
    /// <summary>Adds the values of a loss array.</summary>
    public void Update(NDArray loss) => Update(null, loss);

    protected override void UpdateCore(IReadOnlyList<NDArray>? labels, IReadOnlyList<NDArray> preds)
    {
        foreach (var pred in preds)
        {
            ArgumentNullException.ThrowIfNull(pred, nameof(preds));
            Add(pred);
        }
    }

    protected override void UpdatePair(NDArray label, NDArray pred) => Add(pred);

    private void Add(NDArray loss)
    {
        SumMetric += Values(loss).Sum();
        NumInstances += loss.Size;
    }
}
