namespace Engine.Gluon.Losses;

/// <summary>
/// Softmax cross-entropy (MXNet's SoftmaxCrossEntropyLoss): with sparse labels (class indices) the loss is
/// -log softmax(pred)[label]; with dense labels, -sum(label * log softmax(pred)). fromLogits: pred already holds
/// log-probabilities. The elementwise loss keeps the class axis (size 1) as MXNet's pick(keepdims=True), so a
/// sample weight of shape (batch, 1) weights each sample.
/// </summary>
public class SoftmaxCrossEntropyLoss(int axis = -1, bool sparseLabel = true, bool fromLogits = false,
    double? weight = null, int batchAxis = 0, string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    public int Axis { get; } = axis;

    public bool SparseLabel { get; } = sparseLabel;

    public bool FromLogits { get; } = fromLogits;

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        int axis = pred.Shape.NormalizeAxis(Axis, "SoftmaxCrossEntropyLoss");
        if (SparseLabel && !FromLogits && pred.Rank == 2 && axis == 1)
        {
            using var fused = NDArray.Scope();
            var perSample = Nd.SoftmaxCrossEntropy(pred, label.Rank == 1 ? label : label.Reshape(-1));
            return fused.Keep(perSample.Reshape(pred.Shape[0], 1));
        }
        using var scope = NDArray.Scope();
        var logp = FromLogits ? pred : Nd.LogSoftmax(pred, axis);
        NDArray picked;
        if (SparseLabel)
        {
            var moved = axis == pred.Rank - 1 ? logp : logp.Transpose(MoveToEnd(pred.Rank, axis));
            // A traced label has no values to check; the compiled graph then reads a bad label as a zero row.
            if (label.HasData) CheckLabels(label, moved.Shape[^1]);
            var onehot = Nd.OneHot(label.Reshape(moved.Shape.Dims[..^1].ToArray()), moved.Shape[^1],
                dtype: pred.DType);
            picked = Nd.Sum(moved * onehot, [-1]);
            picked = picked.ExpandDims(axis);
        }
        else
        {
            picked = Nd.Sum(logp * LabelLike(label, pred, "SoftmaxCrossEntropyLoss"), [axis], keepDims: true);
        }
        return scope.Keep(-picked);
    }

    /// <summary>One-hot encoding turns a label outside [0, classes) into a row of zeros, a loss of 0 that hides
    /// the mistake; the fused path raises, and so does this one.</summary>
    private static void CheckLabels(NDArray label, int classes)
    {
        var values = label.ToArray<double>();
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (!(v >= 0 && v < classes) || v != Math.Floor(v))
                throw new ArgumentException(
                    $"SoftmaxCrossEntropyLoss: label {v} at index {i} is not a class index in [0, {classes}); " +
                    $"labels of a {classes}-class prediction must be integers from 0 to {classes - 1}.",
                    nameof(label));
        }
    }

    private static int[] MoveToEnd(int rank, int axis) =>
        Enumerable.Range(0, rank).Where(a => a != axis).Append(axis).ToArray();
}

/// <summary>Half the squared error, 0.5 (pred - label)^2 (MXNet's L2Loss).</summary>
