using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// ResNet V2's bottleneck block, used by ResNet-50, -101 and -152: pre-activation 1x1, strided 3x3 and 1x1
/// convolutions (channels / 4, channels / 4, channels; no biases), the shortcut taken after the first activation
/// when it is downsampled, and no activation after the sum (MXNet's model_zoo.vision.BottleneckV2). Children:
/// bn1, conv1, bn2, conv2, bn3, conv3 and, when downsampling, downsample.
/// </summary>
public class BottleneckV2 : HybridBlock
{
    public BottleneckV2(int channels, int stride, bool downsample = false, int inChannels = 0, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        ResNetParts.CheckBlock(nameof(BottleneckV2), channels, stride, inChannels, channelDivisor: 4);
        RegisterChild(new BatchNorm(prefix: ZooNaming.Next("batchnorm")), "bn1");
        RegisterChild(new Conv2D(channels / 4, kernelSize: 1, strides: 1, useBias: false,
            prefix: ZooNaming.Next("conv")), "conv1");
        RegisterChild(new BatchNorm(prefix: ZooNaming.Next("batchnorm")), "bn2");
        RegisterChild(ResNetParts.Conv3x3(channels / 4, stride, channels / 4), "conv2");
        RegisterChild(new BatchNorm(prefix: ZooNaming.Next("batchnorm")), "bn3");
        RegisterChild(new Conv2D(channels, kernelSize: 1, strides: 1, useBias: false,
            prefix: ZooNaming.Next("conv")), "conv3");
        if (downsample)
            RegisterChild(new Conv2D(channels, kernelSize: 1, strides: stride, useBias: false,
                inChannels: inChannels, prefix: ZooNaming.Next("conv")), "downsample");
    }

    /// <summary>The shortcut's 1x1 convolution, or null when the shortcut is the identity.</summary>
    public Conv2D? Downsample => ChildLookup.Find<Conv2D>(this, "downsample");

    public override NDArray Forward(NDArray x)
    {
        var residual = x;
        x = Nd.Relu(ChildLookup.Get<BatchNorm>(this, "bn1").Call(x));
        if (Downsample is { } shortcut) residual = shortcut.Call(x);
        x = ChildLookup.Get<Conv2D>(this, "conv1").Call(x);
        x = Nd.Relu(ChildLookup.Get<BatchNorm>(this, "bn2").Call(x));
        x = ChildLookup.Get<Conv2D>(this, "conv2").Call(x);
        x = Nd.Relu(ChildLookup.Get<BatchNorm>(this, "bn3").Call(x));
        x = ChildLookup.Get<Conv2D>(this, "conv3").Call(x);
        return x + residual;
    }
}
