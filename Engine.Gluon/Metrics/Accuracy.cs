namespace Engine.Gluon.Metrics;

/// <summary>
/// The fraction of correct predictions: MXNet's <c>Accuracy(axis=1)</c>. Predictions of the labels' shape are
/// class indices already; otherwise the class is the argmax over <see cref="Axis"/> (the first on ties). Both are
/// truncated to integers before comparing, as MXNet casts to int32.
/// </summary>
public sealed class Accuracy(int axis = 1, string name = "accuracy") : EvalMetric(name)
{
    public int Axis { get; } = axis;

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        double[] predicted;
        string what;
        if (pred.Shape == label.Shape)
        {
            predicted = Values(pred);
            what = $"predictions {pred.Shape}";
        }
        else
        {
            if (Axis < -pred.Rank || Axis >= pred.Rank)
                throw new ArgumentException(
                    $"Accuracy: axis {Axis} is out of range for predictions of shape {pred.Shape} (labels " +
                    $"{label.Shape}); give class scores with the classes on axis {Axis}, or class indices shaped " +
                    "like the labels.");
            using var arg = Nd.ArgMax(pred, Axis);
            predicted = Values(arg);
            what = $"the argmax over axis {Axis} of predictions {pred.Shape}";
        }
        var labels = Values(label);
        CheckCounts(labels.Length, label.Shape, predicted.Length, what);
        long correct = 0;
        for (int i = 0; i < labels.Length; i++)
            if ((long)predicted[i] == (long)labels[i]) correct++;
        SumMetric += correct;
        NumInstances += labels.Length;
    }
}
