namespace Engine.Gluon.Losses;

/// <summary>
/// Binary cross-entropy with a sigmoid (MXNet's SigmoidBinaryCrossEntropyLoss, alias SigmoidBCELoss). From logits
/// x and labels z in [0, 1] it uses the stable form max(x, 0) - x z + log(1 + exp(-|x|)); with a positive-class
/// weight p, x - x z + (1 + (p - 1) z) (log(1 + exp(-|x|)) + max(-x, 0)), which is
/// -(p z log sigmoid(x) + (1 - z) log(1 - sigmoid(x))). fromSigmoid: pred holds probabilities and the loss is
/// -(p z log(pred + 1e-12) + (1 - z) log(1 - pred + 1e-12)).
/// </summary>
/// <remarks>pos_weight is a call argument, as in MXNet: <c>loss.Call(pred, label, sampleWeight, posWeight)</c>,
/// broadcast against the prediction (one value per class: shape (1, classes)).</remarks>
public class SigmoidBinaryCrossEntropyLoss(bool fromSigmoid = false, double? weight = null, int batchAxis = 0,
    string? prefix = null) : Loss(weight, batchAxis, prefix)
{
    private const string LossName = "SigmoidBinaryCrossEntropyLoss";

    public bool FromSigmoid { get; } = fromSigmoid;

    /// <summary>The loss with an optional sample weight and an optional weight of the positive class.</summary>
    public NDArray Call(NDArray prediction, NDArray label, NDArray? sampleWeight, NDArray? posWeight)
    {
        if (posWeight is null) return Call(prediction, label, sampleWeight);
        using var scope = NDArray.Scope();
        // A weight of one stands in for an absent sample weight, so the inputs keep one order when traced.
        var sw = sampleWeight ?? Nd.Scalar(1, prediction.DType, prediction.Device);
        return scope.Keep(CallMany(prediction, label, sw, posWeight)[0]);
    }

    public override NDArray[] ForwardMany(NDArray[] inputs)
    {
        if (inputs.Length != 4) return base.ForwardMany(inputs);
        using var scope = NDArray.Scope();
        return [scope.Keep(Finish(Compute(inputs[0], inputs[1], inputs[3]), inputs[2]))];
    }

    protected override NDArray Compute(NDArray pred, NDArray label) => Compute(pred, label, null);

    private NDArray Compute(NDArray pred, NDArray label, NDArray? posWeight)
    {
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        var z = LabelLike(label, pred, LossName);
        if (posWeight is not null)
        {
            CheckPosWeight(posWeight, pred);
            if (posWeight.DType != pred.DType) posWeight = posWeight.AsType(pred.DType);
        }
        if (!FromSigmoid)
        {
            var softplus = Nd.SoftRelu(-Nd.Abs(pred));
            if (posWeight is null) return scope.Keep(Nd.Relu(pred) - pred * z + softplus);
            var logWeight = 1 + (posWeight - 1) * z;
            return scope.Keep(pred - pred * z + logWeight * (softplus + Nd.Relu(-pred)));
        }
        const double eps = 1e-12;
        var positive = Nd.Log(pred + eps) * z;
        if (posWeight is not null) positive = positive * posWeight;
        return scope.Keep(-(positive + Nd.Log(1 - pred + eps) * (1 - z)));
    }

    private static void CheckPosWeight(NDArray posWeight, NDArray pred)
    {
        Shape shape;
        try
        {
            shape = Engine.Ops.ShapeRules.Broadcast(LossName, pred.Shape, posWeight.Shape);
        }
        catch (ArgumentException)
        {
            shape = Shape.Scalar;
        }
        if (shape != pred.Shape)
            throw new ArgumentException(
                $"{LossName}: posWeight of shape {posWeight.Shape} does not broadcast to the prediction's shape " +
                $"{pred.Shape}; give one weight per class, shaped (1, classes) for (batch, classes) predictions.");
    }
}
