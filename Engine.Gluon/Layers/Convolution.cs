using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// The shared body of Conv1D, Conv2D and Conv3D: weight (channels, inChannels/groups, kernel...), NCW, NCHW or
/// NCDHW.
/// </summary>
public abstract class ConvolutionLayer : HybridBlock
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Activation? act;

    protected ConvolutionLayer(int channels, int[] kernel, int[] strides, int[] padding, int[] dilation, int groups,
        string? activation, bool useBias, Initializer? weightInitializer, Initializer? biasInitializer,
        int inChannels, string? prefix, ParameterDict? @params) : base(prefix, @params)
    {
        string name = GetType().Name;
        if (channels <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels),
                $"{name}: channels must be positive, got {channels}.");
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"{name}: channels {channels} must be divisible by groups {groups}.");
        if (inChannels % groups != 0)
            throw new ArgumentException($"{name}: in_channels {inChannels} must be divisible by groups {groups}.");
        foreach (var (what, values, min) in new[] { ("kernel_size", kernel, 1), ("strides", strides, 1),
                     ("padding", padding, 0), ("dilation", dilation, 1) })
        {
            if (values.Any(v => v < min))
                throw new ArgumentException($"{name}: {what} ({string.Join(", ", values)}) must be >= {min}.");
        }
        Channels = channels;
        Kernel = kernel;
        Strides = strides;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        weight = Params.Get("weight", new Shape([channels, inChannels / groups, .. kernel]), weightInitializer,
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

    public int[] Dilation { get; }

    public int Groups { get; }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    public override NDArray Forward(NDArray x)
    {
        if (x.Rank != Kernel.Length + 2)
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': expects input of rank {Kernel.Length + 2} " +
                $"({LayoutText(Kernel.Length)}), got shape {x.Shape}.");
        if (weight.Shape[1] == 0 || weight.IsDeferred)
        {
            if (x.Shape[1] % Groups != 0)
                throw new ArgumentException(
                    $"{GetType().Name} '{Name}': input has {x.Shape[1]} channels, not divisible by groups {Groups}.");
            weight.FinishDeferredInit(new Shape([Channels, x.Shape[1] / Groups, .. Kernel]));
            bias?.FinishDeferredInit(new Shape(Channels));
        }
        var y = Nd.Convolution(x, weight.Data(x.Device), bias?.Data(x.Device), Strides, Padding, Dilation, Groups);
        return act is null ? y : act.Call(y);
    }

    /// <summary>"N, C, W", "N, C, H, W" or "N, C, D, H, W": the layout for this many kernel axes.</summary>
    internal static string LayoutText(int spatial) => spatial switch
    {
        1 => "N, C, W",
        2 => "N, C, H, W",
        _ => "N, C, D, H, W",
    };

    public override string ToString()
    {
        string inCh = weight.Shape[1] == 0 ? "None" : (weight.Shape[1] * Groups).ToString();
        string text = $"{GetType().Name}({inCh} -> {Channels}, kernel_size={Ops.Format.Tuple(Kernel)}, " +
                      $"stride={Ops.Format.Tuple(Strides)}";
        if (Padding.Any(p => p != 0)) text += $", padding={Ops.Format.Tuple(Padding)}";
        if (Dilation.Any(d => d != 1)) text += $", dilation={Ops.Format.Tuple(Dilation)}";
        if (Groups != 1) text += $", groups={Groups}";
        if (bias is null) text += ", bias=False";
        if (act is not null) text += $", {act}";
        return text + ")";
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
