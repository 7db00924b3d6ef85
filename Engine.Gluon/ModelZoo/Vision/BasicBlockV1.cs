using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// ResNet V1's basic block (He et al., "Deep Residual Learning for Image Recognition"), used by ResNet-18 and -34:
/// two 3x3 convolutions with batch norm, a shortcut that is downsampled by a 1x1 convolution when asked, and relu
/// of the sum (MXNet's model_zoo.vision.BasicBlockV1, seeds/000). As in MXNet, the children are named in the
/// scope that is current when the block is built (the stage's), not in the block's own, so a ResNet names them
/// stage1_conv0_, stage1_batchnorm0_, ..., and inside a HybridSequential's NameScope they are named under it.
/// </summary>
public class BasicBlockV1 : HybridBlock
{
    public BasicBlockV1(int channels, int stride, bool downsample = false, int inChannels = 0, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        ResNetParts.CheckBlock(nameof(BasicBlockV1), channels, stride, inChannels);
        var body = RegisterChild(new HybridSequential(prefix: ""), "body");
        body.Add(ResNetParts.Conv3x3(channels, stride, inChannels));
        body.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        body.Add(new Activation("relu", prefix: ZooNaming.Next("relu")));
        body.Add(ResNetParts.Conv3x3(channels, 1, channels));
        body.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        if (downsample)
        {
            var shortcut = RegisterChild(new HybridSequential(prefix: ""), "downsample");
            shortcut.Add(new Conv2D(channels, kernelSize: 1, strides: stride, useBias: false,
                inChannels: inChannels, prefix: ZooNaming.Next("conv")));
            shortcut.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        }
    }

    /// <summary>conv3x3, batch norm, relu, conv3x3, batch norm.</summary>
    public HybridSequential Body => ChildLookup.Get<HybridSequential>(this, "body");

    /// <summary>The shortcut's 1x1 convolution and batch norm, or null when the shortcut is the identity.</summary>
    public HybridSequential? Downsample => ChildLookup.Find<HybridSequential>(this, "downsample");

    public override NDArray Forward(NDArray x)
    {
        var residual = x;
        x = Body.Call(x);
        if (Downsample is { } shortcut) residual = shortcut.Call(residual);
        return Nd.Relu(residual + x);
    }
}
