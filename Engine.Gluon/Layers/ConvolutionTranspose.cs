using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// The shared body of Conv1DTranspose, Conv2DTranspose and Conv3DTranspose (MXNet's Deconvolution): weight
/// (inChannels, channels/groups, kernel...) as MXNet lays it out, bias (channels), NCW, NCHW or NCDHW. Each output
/// extent is strides * (in - 1) + dilation * (kernel - 1) + 1 - 2 * padding + outputPadding. Like every
/// convolution, its parameters are named conv0_weight and conv0_bias.
/// </summary>
public abstract class ConvolutionTransposeLayer : HybridBlock
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Activation? act;

    protected ConvolutionTransposeLayer(int channels, int[] kernel, int[] strides, int[] padding, int[] outputPadding,
        int[] dilation, int groups, string? activation, bool useBias, Initializer? weightInitializer,
        Initializer? biasInitializer, int inChannels, string? prefix, ParameterDict? @params) : base(prefix, @params)
    {
        string name = GetType().Name;
        if (channels <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels),
                $"{name}: channels must be positive, got {channels}.");
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"{name}: channels {channels} must be divisible by groups {groups}.");
        if (inChannels < 0 || inChannels % groups != 0)
            throw new ArgumentException(
                $"{name}: in_channels {inChannels} must be non-negative and divisible by groups {groups}.");
        foreach (var (what, values, min) in new[] { ("kernel_size", kernel, 1), ("strides", strides, 1),
                     ("padding", padding, 0), ("output_padding", outputPadding, 0), ("dilation", dilation, 1) })
        {
            if (values.Any(v => v < min))
                throw new ArgumentException($"{name}: {what} ({string.Join(", ", values)}) must be >= {min}.");
        }
        for (int a = 0; a < kernel.Length; a++)
        {
            if (outputPadding[a] >= strides[a])
                throw new ArgumentException(
                    $"{name}: output_padding ({string.Join(", ", outputPadding)}) must be smaller than strides " +
                    $"({string.Join(", ", strides)}) on every axis; use a smaller output_padding or a larger stride.");
        }
        Channels = channels;
        Kernel = kernel;
        Strides = strides;
        Padding = padding;
        OutputPadding = outputPadding;
        Dilation = dilation;
        Groups = groups;
        weight = Params.Get("weight", new Shape([inChannels, channels / groups, .. kernel]), weightInitializer,
            allowDeferredInit: true);
        if (useBias)
            bias = Params.Get("bias", new Shape(channels), biasInitializer ?? new Zero(), allowDeferredInit: true);
        if (activation is not null) act = new Activation(activation, prefix: activation + "_");
    }

    protected override string Alias => "conv";

    public int Channels { get; }

    public int[] Kernel { get; }

    public int[] Strides { get; }

    public int[] Padding { get; }

    /// <summary>Extra rows and columns on the far side of the output (MXNet's adj).</summary>
    public int[] OutputPadding { get; }

    public int[] Dilation { get; }

    public int Groups { get; }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    public override NDArray Forward(NDArray x)
    {
        if (x.Rank != Kernel.Length + 2)
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': expects input of rank {Kernel.Length + 2} " +
                $"({ConvolutionLayer.LayoutText(Kernel.Length)}), got shape {x.Shape}.");
        if (weight.Shape[0] == 0 || weight.IsDeferred)
        {
            if (x.Shape[1] % Groups != 0)
                throw new ArgumentException(
                    $"{GetType().Name} '{Name}': input has {x.Shape[1]} channels, not divisible by groups {Groups}.");
            weight.FinishDeferredInit(new Shape([x.Shape[1], Channels / Groups, .. Kernel]));
            bias?.FinishDeferredInit(new Shape(Channels));
        }
        else if (x.Shape[1] != weight.Shape[0])
        {
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': input has {x.Shape[1]} channels but the layer was built for " +
                $"{weight.Shape[0]} (weight {weight.Shape}); pass an input with {weight.Shape[0]} channels.");
        }
        var y = Nd.Deconvolution(x, weight.Data(x.Device), bias?.Data(x.Device), Strides, Padding, Dilation,
            OutputPadding, groups: Groups);
        return act is null ? y : act.Call(y);
    }

    /// <summary>
    /// MXNet's text, including its mapping, which prints the weight's second dimension, then its first
    /// (channels / groups -> in_channels, 0 before the input is seen).
    /// </summary>
    public override string ToString()
    {
        string text = $"{GetType().Name}({weight.Shape[1]} -> {weight.Shape[0]}, " +
                      $"kernel_size={Ops.Format.Tuple(Kernel)}, stride={Ops.Format.Tuple(Strides)}";
        if (Padding.Any(p => p != 0)) text += $", padding={Ops.Format.Tuple(Padding)}";
        if (Dilation.Any(d => d != 1)) text += $", dilation={Ops.Format.Tuple(Dilation)}";
        if (OutputPadding.Any(p => p != 0)) text += $", output_padding={Ops.Format.Tuple(OutputPadding)}";
        if (Groups != 1) text += $", groups={Groups}";
        if (bias is null) text += ", bias=False";
        if (act is not null) text += $", {act}";
        return text + ")";
    }
}

/// <summary>Transposed 1-D convolution over NCW input (MXNet's nn.Conv1DTranspose).</summary>
public class Conv1DTranspose : ConvolutionTransposeLayer
{
    public Conv1DTranspose(int channels, int kernelSize, int strides = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1, string? activation = null, bool useBias = true,
        Initializer? weightInitializer = null, Initializer? biasInitializer = null, int inChannels = 0,
        string? prefix = null, ParameterDict? @params = null)
        : base(channels, [kernelSize], [strides], [padding], [outputPadding], [dilation], groups, activation,
            useBias, weightInitializer, biasInitializer, inChannels, prefix, @params) { }
}

/// <summary>Transposed 2-D convolution over NCHW input (MXNet's nn.Conv2DTranspose).</summary>
public class Conv2DTranspose : ConvolutionTransposeLayer
{
    public Conv2DTranspose(int channels, int kernelSize, int strides = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1, string? activation = null, bool useBias = true,
        Initializer? weightInitializer = null, Initializer? biasInitializer = null, int inChannels = 0,
        string? prefix = null, ParameterDict? @params = null)
        : this(channels, (kernelSize, kernelSize), (strides, strides), (padding, padding),
            (outputPadding, outputPadding), (dilation, dilation), groups, activation, useBias, weightInitializer,
            biasInitializer, inChannels, prefix, @params) { }

    public Conv2DTranspose(int channels, (int H, int W) kernelSize, (int H, int W) strides, (int H, int W) padding,
        (int H, int W) outputPadding, (int H, int W) dilation, int groups = 1, string? activation = null,
        bool useBias = true, Initializer? weightInitializer = null, Initializer? biasInitializer = null,
        int inChannels = 0, string? prefix = null, ParameterDict? @params = null)
        : base(channels, [kernelSize.H, kernelSize.W], [strides.H, strides.W], [padding.H, padding.W],
            [outputPadding.H, outputPadding.W], [dilation.H, dilation.W], groups, activation, useBias,
            weightInitializer, biasInitializer, inChannels, prefix, @params) { }
}

/// <summary>Transposed 3-D convolution over NCDHW input (MXNet's nn.Conv3DTranspose).</summary>
public class Conv3DTranspose : ConvolutionTransposeLayer
{
    public Conv3DTranspose(int channels, int kernelSize, int strides = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1, string? activation = null, bool useBias = true,
        Initializer? weightInitializer = null, Initializer? biasInitializer = null, int inChannels = 0,
        string? prefix = null, ParameterDict? @params = null)
        : this(channels, (kernelSize, kernelSize, kernelSize), (strides, strides, strides),
            (padding, padding, padding), (outputPadding, outputPadding, outputPadding),
            (dilation, dilation, dilation), groups, activation, useBias, weightInitializer, biasInitializer,
            inChannels, prefix, @params) { }

    public Conv3DTranspose(int channels, (int D, int H, int W) kernelSize, (int D, int H, int W) strides,
        (int D, int H, int W) padding, (int D, int H, int W) outputPadding, (int D, int H, int W) dilation,
        int groups = 1, string? activation = null, bool useBias = true, Initializer? weightInitializer = null,
        Initializer? biasInitializer = null, int inChannels = 0, string? prefix = null,
        ParameterDict? @params = null)
        : base(channels, [kernelSize.D, kernelSize.H, kernelSize.W], [strides.D, strides.H, strides.W],
            [padding.D, padding.H, padding.W], [outputPadding.D, outputPadding.H, outputPadding.W],
            [dilation.D, dilation.H, dilation.W], groups, activation, useBias, weightInitializer, biasInitializer,
            inChannels, prefix, @params) { }
}
