namespace Engine.Kernels;

/// <summary>
/// An immutable description of a 3-D convolution in NCDHW layout with MXNet / PyTorch semantics (cross-correlation):
/// input (N, C, D, H, W), weight (K, C / groups, KD, KH, KW), output (N, K, OD, OH, OW), each output extent
/// floor((in + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1. Padding is symmetric. The constructor validates
/// everything (errors start with "conv3d:"), so a descriptor that exists is a convolution the kernels can run.
/// </summary>
public sealed record Convolution3DDescriptor
{
    /// <summary>Describes a 3-D convolution; every argument is validated.</summary>
    public Convolution3DDescriptor(int batch, int inChannels, Size3 input, int outChannels, Size3 kernel,
        Size3 stride, Size3 pad, Size3 dilation, int groups = 1)
    {
        const string op = "conv3d";
        if (batch < 0 || inChannels < 0 || outChannels < 0 || input.Any(v => v < 0))
            throw new ArgumentOutOfRangeException(nameof(input),
                $"{op}: sizes must be non-negative, got batch {batch}, input channels {inChannels}, input " +
                $"{input}, output channels {outChannels}.");
        if (kernel.Any(v => v < 1))
            throw new ArgumentOutOfRangeException(nameof(kernel),
                $"{op}: kernel size must be positive, got {kernel}; use a kernel of at least 1.");
        if (stride.Any(v => v < 1))
            throw new ArgumentOutOfRangeException(nameof(stride),
                $"{op}: stride must be positive, got {stride}; use a stride of at least 1.");
        if (dilation.Any(v => v < 1))
            throw new ArgumentOutOfRangeException(nameof(dilation),
                $"{op}: dilation must be positive, got {dilation}; use 1 for an ordinary convolution.");
        if (pad.Any(v => v < 0))
            throw new ArgumentOutOfRangeException(nameof(pad), $"{op}: padding must be non-negative, got {pad}.");
        if (groups < 1)
            throw new ArgumentOutOfRangeException(nameof(groups),
                $"{op}: groups must be positive, got {groups}; use 1 for an ordinary convolution.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException(
                $"{op}: input channels {inChannels} and output channels {outChannels} must both be divisible by " +
                $"groups {groups}; use a number of groups that divides both.", nameof(groups));
        var output = new int[3];
        for (int a = 0; a < 3; a++)
        {
            // The dilated kernel spans d * (k - 1) + 1 input positions; it has to fit in the padded input once.
            long span = (long)dilation[a] * (kernel[a] - 1) + 1, padded = input[a] + 2L * pad[a];
            if (span > padded)
                throw new ArgumentException(
                    $"{op}: the kernel {kernel} with dilation {dilation} spans more input positions than the " +
                    $"padded input (input {input}, padding {pad} on each side); use a smaller kernel or dilation, " +
                    "more padding, or a larger input.");
            long extent = (padded - span) / stride[a] + 1;
            if (extent > int.MaxValue) throw new ArgumentException($"{op}: the output is too large.");
            output[a] = (int)extent;
        }
        Batch = batch;
        InChannels = inChannels;
        Input = input;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        Pad = pad;
        Dilation = dilation;
        Groups = groups;
        Output = new Size3(output[0], output[1], output[2]);
    }

    /// <summary>
    /// Builds the descriptor from a 5-D input (N, C, D, H, W) and a 5-D weight (K, C / groups, KD, KH, KW);
    /// stride, pad and dilation hold three values, one for all axes, or nothing for the defaults (1, 0 and 1).
    /// </summary>
    public static Convolution3DDescriptor FromShapes(Shape input, Shape weight, ReadOnlySpan<int> stride = default,
        ReadOnlySpan<int> pad = default, ReadOnlySpan<int> dilation = default, int groups = 1)
    {
        const string op = "conv3d";
        if (input.Rank != 5)
            throw new ArgumentException(
                $"{op}: input must be 5-D (N, C, D, H, W), got shape {input} of rank {input.Rank}.", nameof(input));
        if (weight.Rank != 5)
            throw new ArgumentException(
                $"{op}: weight must be 5-D (K, C / groups, KD, KH, KW) like the input {input}, got shape {weight}.",
                nameof(weight));
        if (groups < 1)
            throw new ArgumentOutOfRangeException(nameof(groups),
                $"{op}: groups must be positive, got {groups}; use 1 for an ordinary convolution.");
        long expected = (long)weight[1] * groups;
        if (input[1] != expected)
            throw new ArgumentException(
                $"{op}: input has {input[1]} channels but weight expects {expected} (weight shape {weight}, groups " +
                $"{groups}); the weight's second dimension must be the input channels divided by groups.",
                nameof(weight));
        return new Convolution3DDescriptor(input[0], input[1], new Size3(input[2], input[3], input[4]), weight[0],
            new Size3(weight[2], weight[3], weight[4]), Size3.From(stride, 1, op, "stride"),
            Size3.From(pad, 0, op, "pad"), Size3.From(dilation, 1, op, "dilation"), groups);
    }

    public int Batch { get; }

    public int InChannels { get; }

    /// <summary>Input extents (D, H, W).</summary>
    public Size3 Input { get; }

    public int OutChannels { get; }

    public Size3 Kernel { get; }

    public Size3 Stride { get; }

    public Size3 Pad { get; }

    public Size3 Dilation { get; }

    public int Groups { get; }

    /// <summary>Output extents (OD, OH, OW).</summary>
    public Size3 Output { get; }

    public int InChannelsPerGroup => InChannels / Groups;

    public int OutChannelsPerGroup => OutChannels / Groups;

    public Shape InputShape => new(Batch, InChannels, Input.D, Input.H, Input.W);

    public Shape WeightShape => new(OutChannels, InChannelsPerGroup, Kernel.D, Kernel.H, Kernel.W);

    public Shape OutputShape => new(Batch, OutChannels, Output.D, Output.H, Output.W);

    public long InputSize => (long)Batch * InChannels * Input.Volume;

    public long WeightSize => (long)OutChannels * InChannelsPerGroup * Kernel.Volume;

    public long OutputSize => (long)Batch * OutChannels * Output.Volume;

    public override string ToString() =>
        $"conv3d(input {InputShape}, weight {WeightShape}, stride {Stride}, pad {Pad}, dilation {Dilation}, " +
        $"groups {Groups}) -> {OutputShape}";
}
