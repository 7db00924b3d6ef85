using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// The shared body of Conv1DTranspose, Conv2DTranspose and Conv3DTranspose (MXNet's Deconvolution): weight
/// (inChannels, channels/groups, kernel...) as MXNet lays it out, bias (channels), NCW, NCHW or NCDHW. Each output
/// extent is strides * (in - 1) + dilation * (kernel - 1) + 1 - 2 * padding + outputPadding. Like every
/// convolution, its parameters are named conv0_weight and conv0_bias.
/// </summary>
public abstract class ConvolutionTransposeLayer : ConvolutionBlock
{
    protected ConvolutionTransposeLayer(int channels, int[] kernel, int[] strides, int[] padding, int[] outputPadding,
        int[] dilation, int groups, string? activation, bool useBias, Initializer? weightInitializer,
        Initializer? biasInitializer, int inChannels, string? prefix, ParameterDict? @params)
        : base(channels, kernel, strides, padding, dilation, groups, activation, useBias, weightInitializer,
            biasInitializer, inChannels, prefix, @params, ("output_padding", outputPadding, 0))
    {
        for (int a = 0; a < kernel.Length; a++)
        {
            if (outputPadding[a] >= strides[a])
                throw new ArgumentException(
                    $"{GetType().Name}: output_padding ({string.Join(", ", outputPadding)}) must be smaller than " +
                    $"strides ({string.Join(", ", strides)}) on every axis; use a smaller output_padding or a " +
                    "larger stride.");
        }
        OutputPadding = outputPadding;
    }

    /// <summary>Extra rows and columns on the far side of the output (MXNet's adj).</summary>
    public int[] OutputPadding { get; }

    private protected override Shape WeightShape(int inChannels) =>
        new([inChannels, Channels / Groups, .. Kernel]);

    private protected override long WeightInChannels => Weight.Shape[0];

    public override NDArray Forward(NDArray x)
    {
        Prepare(x);
        return Activate(Nd.Deconvolution(x, Weight.Data(x.Device), Bias?.Data(x.Device), Strides, Padding, Dilation,
            OutputPadding, groups: Groups));
    }

    /// <summary>
    /// MXNet's text, including its mapping, which prints the weight's second dimension, then its first
    /// (channels / groups -> in_channels, 0 before the input is seen).
    /// </summary>
    public override string ToString() =>
        $"{GetType().Name}({Weight.Shape[1]} -> {Weight.Shape[0]}, kernel_size={Ops.Format.Tuple(Kernel)}, " +
        $"stride={Ops.Format.Tuple(Strides)}" + OptionsText(OutputPadding);
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
