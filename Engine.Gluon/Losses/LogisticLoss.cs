namespace Engine.Gluon.Losses;

/// <summary>
/// The logistic loss (MXNet's LogisticLoss): log(1 + exp(-pred * label)) for labels -1 or 1
/// (<see cref="LogisticLabelFormat.Signed"/>), computed as the stable max(x, 0) - x z + log(1 + exp(-|x|)) with
/// z = (label + 1) / 2; with <see cref="LogisticLabelFormat.Binary"/> labels are 0 or 1 and z = label. Signed, it
/// equals PyTorch's SoftMarginLoss(reduction='none').
/// </summary>
public class LogisticLoss : Loss
{
    private const string LossName = "LogisticLoss";

    public LogisticLoss(double? weight = null, int batchAxis = 0,
        LogisticLabelFormat labelFormat = LogisticLabelFormat.Signed, string? prefix = null)
        : base(weight, batchAxis, prefix)
    {
        if (!Enum.IsDefined(labelFormat))
            throw new ArgumentOutOfRangeException(nameof(labelFormat),
                $"{LossName}: label format {(int)labelFormat} is neither Signed (labels -1/1) nor Binary " +
                "(labels 0/1).");
        LabelFormat = labelFormat;
    }

    public LogisticLabelFormat LabelFormat { get; }

    protected override NDArray Compute(NDArray pred, NDArray label)
    {
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        var z = LabelLike(label, pred, LossName);
        if (LabelFormat == LogisticLabelFormat.Signed) z = (z + 1) * 0.5;
        return scope.Keep(Nd.Relu(pred) - pred * z + Nd.SoftRelu(-Nd.Abs(pred)));
    }
}
