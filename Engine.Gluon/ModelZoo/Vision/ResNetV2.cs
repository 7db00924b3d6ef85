using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// ResNet V2 (He et al., "Identity Mappings in Deep Residual Networks"; MXNet's model_zoo.vision.ResNetV2), with
/// MXNet's structure and names: <c>features</c> starts with a batch norm without scale or shift (it normalises the
/// input), then the stem (or with <c>thumbnail</c> one 3x3 convolution), the stages, batch norm, relu, global
/// average pool and flatten; <c>output</c> is the Dense classifier. Parameters are named resnetv20_batchnorm0_gamma,
/// resnetv20_conv0_weight, resnetv20_stage1_batchnorm0_gamma, ..., resnetv20_dense0_bias.
/// </summary>
public class ResNetV2 : HybridBlock
{
    /// <param name="block">Builds one residual block (BasicBlockV2 or BottleneckV2 in the standard nets).</param>
    /// <param name="layers">Blocks per stage.</param>
    /// <param name="channels">The stem's output channels, then each stage's.</param>
    /// <param name="classes">Classifier outputs.</param>
    /// <param name="thumbnail">A single 3x3 convolution as the stem (CIFAR-sized inputs) instead of 7x7/2 and
    /// the max pool.</param>
    public ResNetV2(ResidualBlockFactory block, int[] layers, int[] channels, int classes = 1000,
        bool thumbnail = false, string? prefix = null, ParameterDict? @params = null) : base(prefix, @params)
    {
        ResNetParts.CheckNet(nameof(ResNetV2), block, layers, channels, classes);
        using (NameScope())
        using (ZooNaming.Enter())
        {
            var features = RegisterChild(new HybridSequential(prefix: ""), "features");
            features.Add(new BatchNorm(scale: false, center: false, prefix: ZooNaming.Next("batchnorm")));
            if (thumbnail)
            {
                features.Add(ResNetParts.Conv3x3(channels[0], 1, 0));
            }
            else
            {
                features.Add(new Conv2D(channels[0], kernelSize: 7, strides: 2, padding: 3, useBias: false,
                    prefix: ZooNaming.Next("conv")));
                features.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
                features.Add(new Activation("relu", prefix: ZooNaming.Next("relu")));
                features.Add(new MaxPool2D(poolSize: 3, strides: 2, padding: 1, prefix: ZooNaming.Next("pool")));
            }
            int inChannels = channels[0];
            for (int i = 0; i < layers.Length; i++)
            {
                int stride = i == 0 ? 1 : 2;
                features.Add(ResNetParts.MakeStage(block, layers[i], channels[i + 1], stride, i + 1, inChannels));
                inChannels = channels[i + 1];
            }
            features.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
            features.Add(new Activation("relu", prefix: ZooNaming.Next("relu")));
            features.Add(new GlobalAvgPool2D(prefix: ZooNaming.Next("pool")));
            features.Add(new Flatten(prefix: ZooNaming.Next("flatten")));
            RegisterChild(new Dense(classes, inUnits: inChannels, prefix: ZooNaming.Next("dense")), "output");
        }
    }

    /// <summary>Everything before the classifier: its output is (N, channels[^1]).</summary>
    public HybridSequential Features => ChildLookup.Get<HybridSequential>(this, "features");

    /// <summary>The Dense classifier.</summary>
    public Dense Output => ChildLookup.Get<Dense>(this, "output");

    public override NDArray Forward(NDArray x) => Output.Call(Features.Call(x));
}
