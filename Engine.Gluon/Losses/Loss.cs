using Engine.Ops;

namespace Engine.Gluon.Losses;

/// <summary>
/// The base of the losses (MXNet's gluon.loss.Loss): a HybridBlock called with its data inputs (prediction and
/// label for most losses) and an optional sample weight, that returns one loss value per sample (shape (batch,)),
/// averaged over all axes except <see cref="BatchAxis"/>. As MXNet's <c>_apply_weighting</c>, the elementwise loss
/// is multiplied by the sample weight (which must broadcast to the loss's shape) and by <see cref="Weight"/>
/// before the average.
/// </summary>
public abstract class Loss : HybridBlock
{
    protected Loss(double? weight, int batchAxis, string? prefix) : base(prefix)
    {
        if (weight is { } w && !double.IsFinite(w))
            throw new ArgumentOutOfRangeException(nameof(weight),
                $"{GetType().Name}: weight must be a finite number or null, got {w}.");
        Weight = weight;
        BatchAxis = batchAxis;
    }

    public double? Weight { get; }

    public int BatchAxis { get; }

    /// <summary>The number of data inputs before the optional sample weight (2: prediction and label).</summary>
    protected virtual int DataInputs => 2;

    /// <summary>The data inputs by name, for error messages: "(prediction, label)".</summary>
    protected virtual string InputNames => "(prediction, label)";

    /// <summary>The per-sample loss of a prediction and its label.</summary>
    public NDArray Call(NDArray prediction, NDArray label) => CallMany(prediction, label)[0];

    /// <summary>The per-sample loss, each element weighted by <paramref name="sampleWeight"/> (which broadcasts
    /// to the elementwise loss, e.g. (batch, 1)).</summary>
    public NDArray Call(NDArray prediction, NDArray label, NDArray? sampleWeight) =>
        sampleWeight is null ? CallMany(prediction, label)[0] : CallMany(prediction, label, sampleWeight)[0];

    public override NDArray[] ForwardMany(NDArray[] inputs)
    {
        int n = DataInputs;
        if (inputs.Length != n && inputs.Length != n + 1)
            throw new ArgumentException(
                $"{GetType().Name}: call with {InputNames} or {InputNames[..^1]}, sampleWeight); got " +
                $"{inputs.Length} inputs.");
        using var scope = NDArray.Scope();
        var loss = Compute(inputs[..n]);
        return [scope.Keep(Finish(loss, inputs.Length == n + 1 ? inputs[n] : null))];
    }

    /// <summary>Weights an elementwise loss (sample weight, then <see cref="Weight"/>) and reduces it.</summary>
    protected NDArray Finish(NDArray loss, NDArray? sampleWeight)
    {
        using var scope = NDArray.Scope();
        if (sampleWeight is not null) loss = ApplySampleWeight(loss, sampleWeight);
        if (Weight is { } w) loss = loss * w;
        return scope.Keep(Reduce(loss));
    }

    /// <summary>The elementwise (or per-sample) loss of the data inputs, before weighting and averaging.</summary>
    protected virtual NDArray Compute(NDArray[] data) => Compute(data[0], data[1]);

    /// <summary>The elementwise loss of a prediction and its label (losses with two data inputs).</summary>
    protected virtual NDArray Compute(NDArray prediction, NDArray label) =>
        throw new NotImplementedException($"{GetType().Name} must override Compute.");

    /// <summary>The reduction after weighting: by default the mean over every axis but the batch axis.</summary>
    protected virtual NDArray Reduce(NDArray loss) => MeanOverNonBatchAxes(loss);

    /// <summary>Reshapes a label to the prediction's shape when sizes agree (MXNet's _reshape_like).</summary>
    /// <remarks>A label of another dtype is converted to a floating-point prediction's dtype.</remarks>
    protected static NDArray LabelLike(NDArray label, NDArray prediction, string loss, string what = "label")
    {
        if (label.Shape != prediction.Shape)
        {
            if (label.Size != prediction.Size)
                throw new ArgumentException(
                    $"{loss}: {what} shape {label.Shape} ({label.Size} values) does not match prediction shape " +
                    $"{prediction.Shape} ({prediction.Size} values); give one {what} value per prediction value.");
            label = label.Reshape(prediction.Shape);
        }
        bool cast = label.DType != prediction.DType && prediction.DType is DType.Float32 or DType.Float64;
        return cast ? label.AsType(prediction.DType) : label;
    }

    /// <summary>Requires a floating-point prediction, naming the loss.</summary>
    protected static void RequireFloat(NDArray x, string loss, string what = "prediction")
    {
        if (x.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException(
                $"{loss}: the {what} must be float32 or float64, got {x.DType.Name()}; convert it with " +
                "AsType(DType.Float32).");
    }

    /// <summary>loss * sampleWeight, when the weight broadcasts to the loss without growing it.</summary>
    private NDArray ApplySampleWeight(NDArray loss, NDArray sampleWeight)
    {
        Shape shape;
        try
        {
            shape = ShapeRules.Broadcast(GetType().Name, loss.Shape, sampleWeight.Shape);
        }
        catch (ArgumentException)
        {
            shape = Shape.Scalar;
        }
        if (shape != loss.Shape)
            throw new ArgumentException(
                $"{GetType().Name}: the sample weight of shape {sampleWeight.Shape} does not broadcast to the " +
                $"elementwise loss of shape {loss.Shape}; give one weight per sample shaped like " +
                $"{WeightShapeHint(loss.Shape)} (or the loss's full shape).");
        var weight = sampleWeight.DType == loss.DType ? sampleWeight : sampleWeight.AsType(loss.DType);
        return loss * weight;
    }

    private string WeightShapeHint(Shape loss)
    {
        if (loss.Rank == 0) return "()";
        int batch = loss.Rank == 1 ? 0 : loss.NormalizeAxis(BatchAxis, GetType().Name);
        var dims = Enumerable.Repeat(1, loss.Rank).ToArray();
        dims[batch] = loss[batch];
        return new Shape(dims).ToString();
    }

    private NDArray MeanOverNonBatchAxes(NDArray loss)
    {
        if (loss.Rank <= 1) return loss;
        int batch = loss.Shape.NormalizeAxis(BatchAxis, GetType().Name);
        var axes = Enumerable.Range(0, loss.Rank).Where(a => a != batch).ToArray();
        return Nd.Mean(loss, axes);
    }
}
