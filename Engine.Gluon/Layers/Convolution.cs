using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// The shared body of Conv1D, Conv2D and Conv3D: weight (channels, inChannels/groups, kernel...), NCW, NCHW or
/// NCDHW.
/// </summary>
public abstract class ConvolutionLayer : ConvolutionBlock
{
    protected ConvolutionLayer(int channels, int[] kernel, int[] strides, int[] padding, int[] dilation, int groups,
        string? activation, bool useBias, Initializer? weightInitializer, Initializer? biasInitializer,
        int inChannels, string? prefix, ParameterDict? @params)
        : base(channels, kernel, strides, padding, dilation, groups, activation, useBias, weightInitializer,
            biasInitializer, inChannels, prefix, @params) { }

    private protected override Shape WeightShape(int inChannels) =>
        new([Channels, inChannels / Groups, .. Kernel]);

    private protected override long WeightInChannels => Weight.Shape[1] * Groups;

    public override NDArray Forward(NDArray x)
    {
        Prepare(x);
        return Activate(Nd.Convolution(x, Weight.Data(x.Device), Bias?.Data(x.Device), Strides, Padding, Dilation,
            Groups));
    }

    public override string ToString()
    {
        string inCh = Weight.Shape[1] == 0 ? "None" : (Weight.Shape[1] * Groups).ToString();
        return $"{GetType().Name}({inCh} -> {Channels}, kernel_size={Ops.Format.Tuple(Kernel)}, " +
               $"stride={Ops.Format.Tuple(Strides)}" + OptionsText();
    }
}

/// <summary>2-D convolution over NCHW input (MXNet's nn.Conv2D).</summary>
public class Conv2D : ConvolutionLayer
{
    public Conv2D(int channels, int kernelSize, int strides = 1, int padding = 0, int dilation = 1, int groups = 1,
        string? activation = null, bool useBias = true, Initializer? weightInitializer = null,
        Initializer? biasInitializer = null, int inChannels = 0, string? prefix = null, ParameterDict? @params = null)
        : this(channels, (kernelSize, kernelSize), (strides, strides), (padding, padding), (dilation, dilation),
            groups, activation, useBias, weightInitializer, biasInitializer, inChannels, prefix, @params) { }

    public Conv2D(int channels, (int H, int W) kernelSize, (int H, int W) strides, (int H, int W) padding,
        (int H, int W) dilation, int groups = 1, string? activation = null, bool useBias = true,
        Initializer? weightInitializer = null, Initializer? biasInitializer = null, int inChannels = 0,
        string? prefix = null, ParameterDict? @params = null)
        : base(channels, [kernelSize.H, kernelSize.W], [strides.H, strides.W], [padding.H, padding.W],
            [dilation.H, dilation.W], groups, activation, useBias, weightInitializer, biasInitializer, inChannels,
            prefix, @params) { }
}

/// <summary>1-D convolution over NCW input (MXNet's nn.Conv1D).</summary>
public class Conv1D : ConvolutionLayer
{
    public Conv1D(int channels, int kernelSize, int strides = 1, int padding = 0, int dilation = 1, int groups = 1,
        string? activation = null, bool useBias = true, Initializer? weightInitializer = null,
        Initializer? biasInitializer = null, int inChannels = 0, string? prefix = null, ParameterDict? @params = null)
        : base(channels, [kernelSize], [strides], [padding], [dilation], groups, activation, useBias,
            weightInitializer, biasInitializer, inChannels, prefix, @params) { }
}

/// <summary>3-D convolution over NCDHW input (MXNet's nn.Conv3D).</summary>
public class Conv3D : ConvolutionLayer
{
    public Conv3D(int channels, int kernelSize, int strides = 1, int padding = 0, int dilation = 1, int groups = 1,
        string? activation = null, bool useBias = true, Initializer? weightInitializer = null,
        Initializer? biasInitializer = null, int inChannels = 0, string? prefix = null, ParameterDict? @params = null)
        : this(channels, (kernelSize, kernelSize, kernelSize), (strides, strides, strides),
            (padding, padding, padding), (dilation, dilation, dilation), groups, activation, useBias,
            weightInitializer, biasInitializer, inChannels, prefix, @params) { }

    public Conv3D(int channels, (int D, int H, int W) kernelSize, (int D, int H, int W) strides,
        (int D, int H, int W) padding, (int D, int H, int W) dilation, int groups = 1, string? activation = null,
        bool useBias = true, Initializer? weightInitializer = null, Initializer? biasInitializer = null,
        int inChannels = 0, string? prefix = null, ParameterDict? @params = null)
        : base(channels, [kernelSize.D, kernelSize.H, kernelSize.W], [strides.D, strides.H, strides.W],
            [padding.D, padding.H, padding.W], [dilation.D, dilation.H, dilation.W], groups, activation, useBias,
            weightInitializer, biasInitializer, inChannels, prefix, @params) { }
}
