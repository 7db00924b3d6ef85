using Engine.Ops;

namespace Engine.Gluon.Losses;

/// <summary>
/// Connectionist temporal classification (MXNet Gluon's CTCLoss): the per-sample -log p(label | pred) of
/// unnormalised scores pred (softmax is applied inside), shape (batch, time, alphabet) for layout "NTC" or (time,
/// batch, alphabet) for "TNC", against labels (batch, label length) for labelLayout "NT" or (label length, batch)
/// for "TN". As in Gluon, the blank is the LAST class, alphabet - 1: symbols are 0 to alphabet - 2, and a shorter
/// label is padded with -1 (Gluon passes blank_label='last' to the CTCLoss operator, whose own default is
/// 'first'). Optional predLengths and labelLengths (batch,) give each sample's frames and label length. Returns
/// shape (batch,); a label that no path of the sample's frames can produce gives +infinity and a zero gradient.
/// </summary>
public class CTCLoss : Loss
{
    private const string LossName = "CTCLoss";

    public CTCLoss(string layout = "NTC", string labelLayout = "NT", double? weight = null, string? prefix = null)
        : base(weight, BatchAxisOf(labelLayout), prefix)
    {
        if (layout is not ("NTC" or "TNC"))
            throw new ArgumentException(
                $"{LossName}: layout must be \"NTC\" or \"TNC\" (batch, time, alphabet in that order), got " +
                $"\"{layout}\".", nameof(layout));
        Layout = layout;
        LabelLayout = labelLayout;
    }

    /// <summary>"NTC" or "TNC": the axes of the prediction.</summary>
    public string Layout { get; }

    /// <summary>"NT" or "TN": the axes of the label.</summary>
    public string LabelLayout { get; }

    protected override int DataInputs => 4;

    protected override string InputNames => "(prediction, label, predLengths, labelLengths)";

    /// <summary>
    /// The loss of each sample. Without <paramref name="predLengths"/> every sample uses all frames; without
    /// <paramref name="labelLengths"/> a label ends at its first -1.
    /// </summary>
    public NDArray Call(NDArray prediction, NDArray label, NDArray? predLengths = null, NDArray? labelLengths = null,
        NDArray? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(label);
        if (prediction.Rank != 3)
            throw new ArgumentException(
                $"{LossName}: the prediction must be ({string.Join(", ", Layout.Select(AxisName))}) scores, got " +
                $"shape {prediction.Shape}.", nameof(prediction));
        int batch = prediction.Shape[Layout.IndexOf('N')], time = prediction.Shape[Layout.IndexOf('T')];
        // The operator always gets both lengths, so a hybridized call has one input signature: all frames, and
        // -1, which the operator reads as "up to the first padding value". They are not disposed here: a
        // hybridized call's backward reads its inputs.
        predLengths ??= Nd.Full(new Shape(batch), time, prediction.DType, prediction.Device);
        labelLengths ??= Nd.Full(new Shape(batch), -1, prediction.DType, prediction.Device);
        return sampleWeight is null
            ? CallMany(prediction, label, predLengths, labelLengths)[0]
            : CallMany(prediction, label, predLengths, labelLengths, sampleWeight)[0];
    }

    protected override NDArray Compute(NDArray[] data)
    {
        var (pred, label) = (data[0], data[1]);
        RequireFloat(pred, LossName);
        using var scope = NDArray.Scope();
        if (Layout == "NTC") pred = pred.Transpose(1, 0, 2);
        if (label.Rank != 2)
            throw new ArgumentException(
                $"{LossName}: the label must be ({string.Join(", ", LabelLayout.Select(AxisName))}) with shorter " +
                $"labels padded with -1, got shape {label.Shape}.");
        if (BatchAxis == 1) label = label.Transpose(1, 0);
        return scope.Keep(Nd.CtcLoss(pred, label, data[2], data[3], CtcBlank.Last));
    }

    private static int BatchAxisOf(string labelLayout) => labelLayout switch
    {
        "NT" => 0,
        "TN" => 1,
        _ => throw new ArgumentException(
            $"{LossName}: labelLayout must be \"NT\" or \"TN\" (batch and label position in that order), got " +
            $"\"{labelLayout}\".", nameof(labelLayout)),
    };

    private static string AxisName(char axis) => axis switch
    {
        'N' => "batch",
        'T' => "time",
        'C' => "alphabet",
        _ => axis.ToString(),
    };
}
