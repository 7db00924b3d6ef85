using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// What convolutions and transposed convolutions share: the geometry (kernel, strides, padding, dilation,
/// groups), the weight and bias parameters (named conv0_weight and conv0_bias), the optional activation, their
/// argument checks and the tail of MXNet's printed form. Subclasses give the weight's layout.
/// </summary>
public abstract class ConvolutionBlock : HybridBlock
{
    private readonly Activation? act;

    private protected ConvolutionBlock(int channels, int[] kernel, int[] strides, int[] padding, int[] dilation,
        int groups, string? activation, bool useBias, Initializer? weightInitializer, Initializer? biasInitializer,
        int inChannels, string? prefix, ParameterDict? @params, params (string What, int[] Values, int Min)[] extra)
        : base(prefix, @params)
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
        (string What, int[] Values, int Min)[] geometry =
            [("kernel_size", kernel, 1), ("strides", strides, 1), ("padding", padding, 0), ("dilation", dilation, 1),
             .. extra];
        foreach (var (what, values, min) in geometry)
        {
            if (values.Length != kernel.Length)
                throw new ArgumentException(
                    $"{name}: {what} has {values.Length} values, expected one per kernel axis ({kernel.Length}).");
            if (values.Any(v => v < min))
                throw new ArgumentException($"{name}: {what} ({string.Join(", ", values)}) must be >= {min}.");
        }
        Channels = channels;
        Kernel = kernel;
        Strides = strides;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        Weight = Params.Get("weight", WeightShape(inChannels), weightInitializer, allowDeferredInit: true);
        if (useBias)
            Bias = Params.Get("bias", new Shape(channels), biasInitializer ?? new Zero(), allowDeferredInit: true);
        if (activation is not null) act = new Activation(activation, prefix: activation + "_");
    }

    protected override string Alias => "conv";

    public int Channels { get; }

    public int[] Kernel { get; }

    public int[] Strides { get; }

    public int[] Padding { get; }

    public int[] Dilation { get; }

    public int Groups { get; }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    /// <summary>"N, C, W", "N, C, H, W" or "N, C, D, H, W": the layout for this many kernel axes.</summary>
    internal static string LayoutText(int spatial) => spatial switch
    {
        1 => "N, C, W",
        2 => "N, C, H, W",
        _ => "N, C, D, H, W",
    };

    /// <summary>
    /// The weight's shape for <paramref name="inChannels"/> input channels (0 before they are known).
    /// </summary>
    private protected abstract Shape WeightShape(int inChannels);

    /// <summary>The input channels the built weight expects.</summary>
    private protected abstract long WeightInChannels { get; }

    /// <summary>
    /// Checks <paramref name="x"/>'s rank and channel count, finishing the deferred weight shape (from the input's
    /// channels) on the first call.
    /// </summary>
    private protected void Prepare(NDArray x)
    {
        if (x.Rank != Kernel.Length + 2)
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': expects input of rank {Kernel.Length + 2} " +
                $"({LayoutText(Kernel.Length)}), got shape {x.Shape}.");
        long inChannels = x.Shape[1];
        if (inChannels % Groups != 0)
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': input has {inChannels} channels, not divisible by groups {Groups}.");
        if (Weight.IsDeferred || Weight.Shape.Size == 0)
        {
            Weight.FinishDeferredInit(WeightShape(checked((int)inChannels)));
            Bias?.FinishDeferredInit(new Shape(Channels));
        }
        else if (inChannels != WeightInChannels)
        {
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': input has {inChannels} channels but the layer was built for " +
                $"{WeightInChannels} (weight {Weight.Shape}); pass an input with {WeightInChannels} channels.");
        }
    }

    private protected NDArray Activate(NDArray y) => act is null ? y : act.Call(y);

    /// <summary>The options MXNet prints after the stride, from padding on.</summary>
    private protected string OptionsText(int[]? outputPadding = null)
    {
        string text = "";
        if (Padding.Any(p => p != 0)) text += $", padding={Ops.Format.Tuple(Padding)}";
        if (Dilation.Any(d => d != 1)) text += $", dilation={Ops.Format.Tuple(Dilation)}";
        if (outputPadding is not null && outputPadding.Any(p => p != 0))
            text += $", output_padding={Ops.Format.Tuple(outputPadding)}";
        if (Groups != 1) text += $", groups={Groups}";
        if (Bias is null) text += ", bias=False";
        if (act is not null) text += $", {act}";
        return text + ")";
    }
}
