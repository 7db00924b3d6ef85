namespace Engine.Gluon.Losses;

/// <summary>
/// The cosine embedding loss (MXNet's CosineEmbeddingLoss): with cos the cosine similarity of input1 and input2
/// over their last axis (x.y / max(|x| |y|, 1e-12)), the loss is 1 - cos where the label is 1, max(0, cos -
/// margin) where it is -1, and 0 for other labels. Called with (input1, input2, label) and an optional sample
/// weight of shape (batch, 1); returns shape (batch,) where MXNet returns (batch, 1) with the same values.
/// PyTorch's CosineEmbeddingLoss agrees up to its eps of 1e-8 inside the norms.
/// </summary>
public class CosineEmbeddingLoss : Loss
{
    private const string LossName = "CosineEmbeddingLoss";

    public CosineEmbeddingLoss(double? weight = null, int batchAxis = 0, double margin = 0, string? prefix = null)
        : base(weight, batchAxis, prefix)
    {
        Margin = HingeLoss.CheckMargin(margin, LossName);
    }

    public double Margin { get; }

    protected override int DataInputs => 3;

    protected override string InputNames => "(input1, input2, label)";

    /// <summary>The loss of each pair (a row of input1 and of input2) against its label, 1 or -1.</summary>
    public NDArray Call(NDArray input1, NDArray input2, NDArray label, NDArray? sampleWeight = null) =>
        sampleWeight is null ? CallMany(input1, input2, label)[0] : CallMany(input1, input2, label, sampleWeight)[0];

    protected override NDArray Compute(NDArray[] data)
    {
        var y = data[1];
        RequireFloat(y, LossName, "input2");
        using var scope = NDArray.Scope();
        var x = LabelLike(data[0], y, LossName, "input1");
        if (y.Rank == 0)
            throw new ArgumentException($"{LossName}: inputs must have at least one axis, got scalars.");
        int rows = (int)(y.Size / y.Shape[^1]);
        var label = data[2];
        if (label.Size != rows)
            throw new ArgumentException(
                $"{LossName}: {label.Size} labels (shape {label.Shape}) for {rows} pairs of vectors (inputs " +
                $"{y.Shape}, compared over the last axis); give one label, 1 or -1, per pair.");
        label = label.Reshape(rows, 1);
        if (label.DType != y.DType) label = label.AsType(y.DType);
        var norms = Nd.Norm(x, [-1]).Reshape(rows, 1) * Nd.Norm(y, [-1]).Reshape(rows, 1);
        var cos = Nd.Sum(x * y, [-1]).Reshape(rows, 1) / Nd.Maximum(norms, 1e-12);
        var similar = Nd.Equal(label, Nd.Scalar(1, y.DType, y.Device));
        var dissimilar = Nd.Equal(label, Nd.Scalar(-1, y.DType, y.Device));
        return scope.Keep((1 - cos) * similar + Nd.Maximum(dissimilar * (cos - Margin), 0));
    }
}
