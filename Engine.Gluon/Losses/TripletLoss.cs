namespace Engine.Gluon.Losses;

/// <summary>
/// The triplet loss (MXNet's TripletLoss): max(sum(|pos - pred|^2) - sum(|neg - pred|^2) + margin, 0), the sums
/// over every axis but the batch axis, so the distances are squared Euclidean ones (PyTorch's TripletMarginLoss
/// uses unsquared distances and differs). Called with (prediction, positive, negative) and an optional sample
/// weight of shape (batch,); returns shape (batch,).
/// </summary>
public class TripletLoss : Loss
{
    private const string LossName = "TripletLoss";

    public TripletLoss(double margin = 1, double? weight = null, int batchAxis = 0, string? prefix = null)
        : base(weight, batchAxis, prefix)
    {
        Margin = HingeLoss.CheckMargin(margin, LossName);
    }

    public double Margin { get; }

    protected override int DataInputs => 3;

    protected override string InputNames => "(prediction, positive, negative)";

    /// <summary>The loss of each sample's prediction against its positive and negative examples.</summary>
    public NDArray Call(NDArray prediction, NDArray positive, NDArray negative, NDArray? sampleWeight = null) =>
        sampleWeight is null
            ? CallMany(prediction, positive, negative)[0]
            : CallMany(prediction, positive, negative, sampleWeight)[0];

    protected override NDArray Compute(NDArray[] data)
    {
        var pred = data[0];
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        var positive = LabelLike(data[1], pred, LossName, "positive");
        var negative = LabelLike(data[2], pred, LossName, "negative");
        var difference = Nd.Square(positive - pred) - Nd.Square(negative - pred);
        if (pred.Rank > 1)
        {
            int batch = pred.Shape.NormalizeAxis(BatchAxis, LossName);
            difference = Nd.Sum(difference, Enumerable.Range(0, pred.Rank).Where(a => a != batch).ToArray());
        }
        return scope.Keep(Nd.Relu(difference + Margin));
    }
}
