namespace Engine.Gluon.Losses;

/// <summary>
/// The base of the losses (MXNet's gluon.loss.Loss): a HybridBlock called with (prediction, label) that returns
/// one loss value per sample (shape (batch,)), averaged over all axes except <see cref="BatchAxis"/> and scaled
/// by <see cref="Weight"/>.
/// </summary>
public abstract class Loss : HybridBlock
{
    protected Loss(double? weight, int batchAxis, string? prefix) : base(prefix)
    {
        Weight = weight;
        BatchAxis = batchAxis;
    }

    public double? Weight { get; }

    public int BatchAxis { get; }

    /// <summary>The per-sample loss of a prediction and its label.</summary>
    public NDArray Call(NDArray prediction, NDArray label) => CallMany(prediction, label)[0];

    public override NDArray[] ForwardMany(NDArray[] inputs)
    {
        if (inputs.Length is not (2 or 3))
            throw new ArgumentException(
                $"{GetType().Name}: call with (prediction, label) or (prediction, label, sampleWeight); got " +
                $"{inputs.Length} inputs.");
        var loss = Compute(inputs[0], inputs[1]);
        using var scope = NDArray.Scope();
        if (inputs.Length == 3) loss = loss * inputs[2];
        if (Weight is { } w) loss = loss * w;
        return [scope.Keep(MeanOverNonBatchAxes(loss))];
    }

    /// <summary>The elementwise (or per-sample) loss before weighting and averaging.</summary>
    protected abstract NDArray Compute(NDArray prediction, NDArray label);

    /// <summary>Reshapes a label to the prediction's shape when sizes agree (MXNet's _reshape_like).</summary>
    protected static NDArray LabelLike(NDArray label, NDArray prediction, string loss)
    {
        if (label.Shape == prediction.Shape) return label;
        if (label.Size != prediction.Size)
            throw new ArgumentException(
                $"{loss}: label shape {label.Shape} does not match prediction shape {prediction.Shape}.");
        return label.Reshape(prediction.Shape);
    }

    private NDArray MeanOverNonBatchAxes(NDArray loss)
    {
        if (loss.Rank <= 1) return loss;
        int batch = loss.Shape.NormalizeAxis(BatchAxis, GetType().Name);
        var axes = Enumerable.Range(0, loss.Rank).Where(a => a != batch).ToArray();
        return Nd.Mean(loss, axes);
    }
}

/// <summary>
/// Softmax cross-entropy (MXNet's SoftmaxCrossEntropyLoss): with sparse labels (class indices) the loss is
/// -log softmax(pred)[label]; with dense labels, -sum(label * log softmax(pred)). fromLogits: pred already holds
/// log-probabilities.
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
            return Nd.SoftmaxCrossEntropy(pred, label.Rank == 1 ? label : label.Reshape(-1));
        using var scope = NDArray.Scope();
        var logp = FromLogits ? pred : Nd.LogSoftmax(pred, axis);
        NDArray picked;
        if (SparseLabel)
        {
            var moved = axis == pred.Rank - 1 ? logp : logp.Transpose(MoveToEnd(pred.Rank, axis));
            CheckLabels(label, moved.Shape[^1]);
            var onehot = Nd.OneHot(label.Reshape(moved.Shape.Dims[..^1].ToArray()), moved.Shape[^1], dtype: pred.DType);
            picked = Nd.Sum(moved * onehot, [-1]);
        }
        else
        {
            picked = Nd.Sum(logp * LabelLike(label, pred, "SoftmaxCrossEntropyLoss"), [axis]);
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
public class L2Loss(double? weight = 1.0, int batchAxis = 0, string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Square(pred - LabelLike(label, pred, "L2Loss")) * 0.5);
    }
}

/// <summary>The absolute error |pred - label| (MXNet's L1Loss).</summary>
public class L1Loss(double? weight = null, int batchAxis = 0, string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        using var scope = NDArray.Scope();
        return scope.Keep(Nd.Abs(pred - LabelLike(label, pred, "L1Loss")));
    }
}

/// <summary>
/// Binary cross-entropy with a sigmoid (MXNet's SigmoidBinaryCrossEntropyLoss): from logits x and 0/1 labels z,
/// max(x, 0) - x z + log(1 + exp(-|x|)), stable for large |x|; fromSigmoid: pred holds probabilities.
/// </summary>
public class SigmoidBinaryCrossEntropyLoss(bool fromSigmoid = false, double? weight = null, int batchAxis = 0,
    string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    public bool FromSigmoid { get; } = fromSigmoid;

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        using var scope = NDArray.Scope();
        var z = LabelLike(label, pred, "SigmoidBinaryCrossEntropyLoss");
        if (!FromSigmoid)
            return scope.Keep(Nd.Relu(pred) - pred * z + Nd.SoftRelu(-Nd.Abs(pred)));
        const double eps = 1e-12;
        return scope.Keep(-(Nd.Log(pred + eps) * z + Nd.Log(1 - pred + eps) * (1 - z)));
    }
}
