using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>What the residual blocks and the two ResNets share (MXNet's module-level helpers in resnet.py).</summary>
internal static class ResNetParts
{
    /// <summary>MXNet's _conv3x3: a 3x3 convolution with padding 1 and no bias.</summary>
    public static Conv2D Conv3x3(int channels, int stride, int inChannels) =>
        new(channels, kernelSize: 3, strides: stride, padding: 1, useBias: false, inChannels: inChannels,
            prefix: ZooNaming.Next("conv"));

    /// <summary>
    /// MXNet's _make_layer: a HybridSequential named stage{index}_, whose blocks (all with an empty prefix) are
    /// created inside its name scope, so every layer of the stage is named stageN_conv0_, stageN_batchnorm0_, ...
    /// The first block changes the stride and, when the channel count changes, downsamples the shortcut.
    /// </summary>
    public static HybridSequential MakeStage(ResidualBlockFactory block, int layers, int channels, int stride,
        int stageIndex, int inChannels)
    {
        var stage = new HybridSequential(prefix: $"stage{stageIndex}_");
        using (stage.NameScope())
        using (ZooNaming.Enter())
        {
            stage.Add(block(channels, stride, channels != inChannels, inChannels, ""));
            for (int i = 0; i < layers - 1; i++) stage.Add(block(channels, 1, false, channels, ""));
        }
        return stage;
    }

    /// <summary>Checks the arguments every residual block takes.</summary>
    public static void CheckBlock(string block, int channels, int stride, int inChannels, int channelDivisor = 1)
    {
        if (channels <= 0 || channels % channelDivisor != 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels,
                $"{block}: channels must be positive" +
                (channelDivisor > 1 ? $" and divisible by {channelDivisor} (the bottleneck has channels / " +
                                      $"{channelDivisor})" : "") + $", got {channels}.");
        if (stride <= 0)
            throw new ArgumentOutOfRangeException(nameof(stride), stride,
                $"{block}: stride must be positive, got {stride}.");
        if (inChannels < 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels,
                $"{block}: inChannels must be >= 0 (0 infers it from the first input), got {inChannels}.");
    }

    /// <summary>Checks what ResNetV1 and ResNetV2 take: one more channel count than stages, all positive.</summary>
    public static void CheckNet(string net, ResidualBlockFactory block, int[] layers, int[] channels, int classes)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(channels);
        if (layers.Length == 0 || channels.Length != layers.Length + 1)
            throw new ArgumentException(
                $"{net}: channels must have one more entry than layers (the stem's, then one per stage); got " +
                $"{layers.Length} layers and {channels.Length} channels.");
        if (layers.Any(n => n <= 0) || channels.Any(c => c <= 0))
            throw new ArgumentException(
                $"{net}: layers and channels must be positive, got layers [{string.Join(", ", layers)}] and " +
                $"channels [{string.Join(", ", channels)}].");
        if (classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), classes,
                $"{net}: classes must be positive, got {classes}.");
    }
}
