using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// ResNet V2's basic block (He et al., "Identity Mappings in Deep Residual Networks"), used by ResNet-18 and -34:
/// pre-activation (batch norm and relu before each 3x3 convolution), the shortcut taken after the first
/// activation when it is downsampled, and no activation after the sum (MXNet's model_zoo.vision.BasicBlockV2).
/// Children: bn1, conv1, bn2, conv2 and, when downsampling, downsample (a 1x1 convolution).
/// </summary>
public class BasicBlockV2 : HybridBlock
{
    public BasicBlockV2(int channels, int stride, bool downsample = false, int inChannels = 0, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        ResNetParts.CheckBlock(nameof(BasicBlockV2), channels, stride, inChannels);
        RegisterChild(new BatchNorm(prefix: ZooNaming.Next("batchnorm")), "bn1");
        RegisterChild(ResNetParts.Conv3x3(channels, stride, inChannels), "conv1");
        RegisterChild(new BatchNorm(prefix: ZooNaming.Next("batchnorm")), "bn2");
        RegisterChild(ResNetParts.Conv3x3(channels, 1, channels), "conv2");
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
        return x + residual;
    }
}
