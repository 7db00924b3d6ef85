using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// ResNet V1's bottleneck block, used by ResNet-50, -101 and -152: a strided 1x1 convolution to channels / 4, a
/// 3x3 convolution, a 1x1 convolution back to channels (both 1x1 convolutions with a bias, as in MXNet), batch
/// norm after each, and relu of the sum with the shortcut (MXNet's model_zoo.vision.BottleneckV1).
/// </summary>
public class BottleneckV1 : HybridBlock
{
    public BottleneckV1(int channels, int stride, bool downsample = false, int inChannels = 0, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        ResNetParts.CheckBlock(nameof(BottleneckV1), channels, stride, inChannels, channelDivisor: 4);
        var body = RegisterChild(new HybridSequential(prefix: ""), "body");
        body.Add(new Conv2D(channels / 4, kernelSize: 1, strides: stride, prefix: ZooNaming.Next("conv")));
        body.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        body.Add(new Activation("relu", prefix: ZooNaming.Next("relu")));
        body.Add(ResNetParts.Conv3x3(channels / 4, 1, channels / 4));
        body.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        body.Add(new Activation("relu", prefix: ZooNaming.Next("relu")));
        body.Add(new Conv2D(channels, kernelSize: 1, strides: 1, prefix: ZooNaming.Next("conv")));
        body.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        if (downsample)
        {
            var shortcut = RegisterChild(new HybridSequential(prefix: ""), "downsample");
            shortcut.Add(new Conv2D(channels, kernelSize: 1, strides: stride, useBias: false,
                inChannels: inChannels, prefix: ZooNaming.Next("conv")));
            shortcut.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
        }
    }

    public HybridSequential Body => ChildLookup.Get<HybridSequential>(this, "body");

    public HybridSequential? Downsample => ChildLookup.Find<HybridSequential>(this, "downsample");

    public override NDArray Forward(NDArray x)
    {
        var residual = x;
        x = Body.Call(x);
        if (Downsample is { } shortcut) residual = shortcut.Call(residual);
        return Nd.Relu(x + residual);
    }
}
