namespace Engine.Kernels;

/// <summary>
/// An immutable description of a 2-D convolution in NCHW layout with MXNet / PyTorch semantics
/// (cross-correlation): input (N, C, H, W), weight (K, C / groups, R, S), output (N, K, OH, OW) with
/// OH = floor((H + 2 * padH - dilationH * (R - 1) - 1) / strideH) + 1 and OW likewise. Padding is symmetric.
/// A 1-D convolution (input (N, C, W), weight (K, C / groups, S)) is the 2-D one with H = 1 and R = 1; build it with
/// <see cref="Conv1D"/>, and the same kernels serve it. The constructor validates everything, so a descriptor that
/// exists is a convolution the kernels can run.
/// </summary>
public sealed record ConvolutionDescriptor
{
    /// <summary>Describes a 2-D convolution; every argument is validated (errors start with "conv2d:").</summary>
    public ConvolutionDescriptor(int batch, int inChannels, int inHeight, int inWidth, int outChannels,
        int kernelH, int kernelW, int strideH = 1, int strideW = 1, int padH = 0, int padW = 0,
        int dilationH = 1, int dilationW = 1, int groups = 1)
        : this(2, batch, inChannels, inHeight, inWidth, outChannels, kernelH, kernelW, strideH, strideW, padH, padW,
            dilationH, dilationW, groups)
    {
    }

    private ConvolutionDescriptor(int spatialRank, int batch, int inChannels, int inHeight, int inWidth,
        int outChannels, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
        int dilationH, int dilationW, int groups)
    {
        SpatialRank = spatialRank;
        string op = Op;
        RequireNonNegative(op, "batch size", batch);
        RequireNonNegative(op, "input channels", inChannels);
        RequireNonNegative(op, "input height", inHeight);
        RequireNonNegative(op, "input width", inWidth);
        RequireNonNegative(op, "output channels", outChannels);
        if (kernelH < 1 || kernelW < 1)
            throw new ArgumentOutOfRangeException(nameof(kernelW),
                $"{op}: kernel size must be positive, got {Pair(kernelH, kernelW)}; use a kernel of at least 1.");
        if (strideH < 1 || strideW < 1)
            throw new ArgumentOutOfRangeException(nameof(strideW),
                $"{op}: stride must be positive, got {Pair(strideH, strideW)}; use a stride of at least 1.");
        if (dilationH < 1 || dilationW < 1)
            throw new ArgumentOutOfRangeException(nameof(dilationW),
                $"{op}: dilation must be positive, got {Pair(dilationH, dilationW)}; " +
                "use 1 for an ordinary convolution.");
        if (padH < 0 || padW < 0)
            throw new ArgumentOutOfRangeException(nameof(padW),
                $"{op}: padding must be non-negative, got {Pair(padH, padW)}.");
        if (groups < 1)
            throw new ArgumentOutOfRangeException(nameof(groups),
                $"{op}: groups must be positive, got {groups}; use 1 for an ordinary convolution.");
        if (inChannels % groups != 0)
            throw new ArgumentException(
                $"{op}: input channels {inChannels} are not divisible by groups {groups}; " +
                "use a number of groups that divides both the input and the output channels.", nameof(groups));
        if (outChannels % groups != 0)
            throw new ArgumentException(
                $"{op}: output channels {outChannels} are not divisible by groups {groups}; " +
                "use a number of groups that divides both the input and the output channels.", nameof(groups));

        // The dilated kernel spans d * (R - 1) + 1 input positions; it has to fit in the padded input once.
        long spanH = (long)dilationH * (kernelH - 1) + 1, spanW = (long)dilationW * (kernelW - 1) + 1;
        long paddedH = inHeight + 2L * padH, paddedW = inWidth + 2L * padW;
        if (spanH > paddedH || spanW > paddedW)
            throw new ArgumentException(
                $"{op}: the kernel {Pair(kernelH, kernelW)} with dilation {Pair(dilationH, dilationW)} spans " +
                $"{Pair(spanH, spanW)} input positions, more than the padded input {Pair(paddedH, paddedW)} " +
                $"(input {Pair(inHeight, inWidth)}, padding {Pair(padH, padW)} on each side); " +
                "use a smaller kernel or dilation, more padding, or a larger input.");
        long outH = (paddedH - spanH) / strideH + 1, outW = (paddedW - spanW) / strideW + 1;
        if (outH > int.MaxValue || outW > int.MaxValue)
            throw new ArgumentException($"{op}: the output {Pair(outH, outW)} is too large.");

        Batch = batch;
        InChannels = inChannels;
        InHeight = inHeight;
        InWidth = inWidth;
        OutChannels = outChannels;
        KernelH = kernelH;
        KernelW = kernelW;
        StrideH = strideH;
        StrideW = strideW;
        PadH = padH;
        PadW = padW;
        DilationH = dilationH;
        DilationW = dilationW;
        Groups = groups;
        OutHeight = (int)outH;
        OutWidth = (int)outW;
    }

    /// <summary>
    /// Describes a 1-D convolution: input (N, C, W), weight (K, C / groups, S), output (N, K, OW). Errors start with
    /// "conv1d:". The kernels run it as a 2-D convolution with H = 1 and R = 1.
    /// </summary>
    public static ConvolutionDescriptor Conv1D(int batch, int inChannels, int inWidth, int outChannels, int kernel,
        int stride = 1, int pad = 0, int dilation = 1, int groups = 1) =>
        new(1, batch, inChannels, 1, inWidth, outChannels, 1, kernel, 1, stride, 0, pad, 1, dilation, groups);

    /// <summary>
    /// Builds the descriptor from array shapes, as the operator layer does: a 4-D input (N, C, H, W) with a 4-D
    /// weight (K, C / groups, R, S) is conv2d, a 3-D input (N, C, W) with a 3-D weight (K, C / groups, S) is conv1d.
    /// <paramref name="stride"/>, <paramref name="pad"/> and <paramref name="dilation"/> hold one value per spatial
    /// dimension, or one value for all of them, or nothing for the defaults (1, 0 and 1).
    /// </summary>
    public static ConvolutionDescriptor FromShapes(Shape input, Shape weight, ReadOnlySpan<int> stride = default,
        ReadOnlySpan<int> pad = default, ReadOnlySpan<int> dilation = default, int groups = 1)
    {
        string op = input.Rank == 3 ? "conv1d" : "conv2d";
        if (input.Rank is not (3 or 4))
            throw new ArgumentException(
                $"{op}: input must be 4-D (N, C, H, W), or 3-D (N, C, W) for conv1d, got shape {input} " +
                $"of rank {input.Rank}.", nameof(input));
        int spatial = input.Rank - 2;
        string layout = spatial == 2 ? "(K, C / groups, R, S)" : "(K, C / groups, S)";
        if (weight.Rank != input.Rank)
            throw new ArgumentException(
                $"{op}: weight must be {input.Rank}-D {layout} like the {input.Rank}-D input {input}, " +
                $"got shape {weight}.", nameof(weight));
        if (groups < 1)
            throw new ArgumentOutOfRangeException(nameof(groups),
                $"{op}: groups must be positive, got {groups}; use 1 for an ordinary convolution.");
        int[] s = PerDimension(op, "stride", stride, spatial, 1);
        int[] p = PerDimension(op, "pad", pad, spatial, 0);
        int[] d = PerDimension(op, "dilation", dilation, spatial, 1);
        long expected = (long)weight[1] * groups;
        if (input[1] != expected)
            throw new ArgumentException(
                $"{op}: input has {input[1]} channels but weight expects {expected} " +
                $"(weight shape {weight}, groups {groups}); the weight's second dimension must be the input " +
                $"channels divided by groups ({input[1]} / {groups}).", nameof(weight));
        return spatial == 2
            ? new ConvolutionDescriptor(2, input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3],
                s[0], s[1], p[0], p[1], d[0], d[1], groups)
            : Conv1D(input[0], input[1], input[2], weight[0], weight[2], s[0], p[0], d[0], groups);
    }

    /// <summary>"conv2d" or "conv1d": the name errors start with.</summary>
    public string Op => SpatialRank == 2 ? "conv2d" : "conv1d";

    /// <summary>2 for conv2d, 1 for conv1d (whose H and R are 1).</summary>
    public int SpatialRank { get; }

    public int Batch { get; }

    public int InChannels { get; }

    public int InHeight { get; }

    public int InWidth { get; }

    public int OutChannels { get; }

    public int KernelH { get; }

    public int KernelW { get; }

    public int StrideH { get; }

    public int StrideW { get; }

    public int PadH { get; }

    public int PadW { get; }

    public int DilationH { get; }

    public int DilationW { get; }

    public int Groups { get; }

    public int OutHeight { get; }

    public int OutWidth { get; }

    public int InChannelsPerGroup => InChannels / Groups;

    public int OutChannelsPerGroup => OutChannels / Groups;

    /// <summary>(N, C, H, W), or (N, C, W) for conv1d.</summary>
    public Shape InputShape => SpatialRank == 2
        ? new Shape(Batch, InChannels, InHeight, InWidth) : new Shape(Batch, InChannels, InWidth);

    /// <summary>(K, C / groups, R, S), or (K, C / groups, S) for conv1d.</summary>
    public Shape WeightShape => SpatialRank == 2
        ? new Shape(OutChannels, InChannelsPerGroup, KernelH, KernelW)
        : new Shape(OutChannels, InChannelsPerGroup, KernelW);

    /// <summary>(K,).</summary>
    public Shape BiasShape => new(OutChannels);

    /// <summary>(N, K, OH, OW), or (N, K, OW) for conv1d.</summary>
    public Shape OutputShape => SpatialRank == 2
        ? new Shape(Batch, OutChannels, OutHeight, OutWidth) : new Shape(Batch, OutChannels, OutWidth);

    public long InputSize => (long)Batch * InChannels * InHeight * InWidth;

    public long WeightSize => (long)OutChannels * InChannelsPerGroup * KernelH * KernelW;

    public long OutputSize => (long)Batch * OutChannels * OutHeight * OutWidth;

    /// <summary>conv2d(input (1, 1, 28, 28), weight (6, 1, 5, 5), stride (1, 1), ...) -> (1, 6, 24, 24).</summary>
    public override string ToString() =>
        $"{Op}(input {InputShape}, weight {WeightShape}, stride {Pair(StrideH, StrideW)}, " +
        $"pad {Pair(PadH, PadW)}, dilation {Pair(DilationH, DilationW)}, groups {Groups}) -> {OutputShape}";

    private static void RequireNonNegative(string op, string what, int value)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(nameof(value), $"{op}: {what} must be non-negative, got {value}.");
    }

    private static int[] PerDimension(string op, string name, ReadOnlySpan<int> values, int spatial, int fallback)
    {
        if (values.Length == 0) return Enumerable.Repeat(fallback, spatial).ToArray();
        if (values.Length == 1) return Enumerable.Repeat(values[0], spatial).ToArray();
        if (values.Length != spatial)
            throw new ArgumentException(
                $"{op}: {name} has {values.Length} values ({string.Join(", ", values.ToArray())}) but a " +
                $"{spatial}-D convolution takes {spatial} (or 1 for every dimension).", name);
        return values.ToArray();
    }

    // conv1d shows only the width, as the user wrote it: "5", not "(1, 5)".
    private string Pair(long h, long w) => SpatialRank == 2 ? $"({h}, {w})" : $"{w}";
}
