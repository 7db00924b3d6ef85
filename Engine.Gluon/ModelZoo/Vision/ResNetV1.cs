using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// ResNet V1 (He et al., "Deep Residual Learning for Image Recognition"; MXNet's model_zoo.vision.ResNetV1), with
/// MXNet's structure and names: <c>features</c> holds the stem (a 7x7/2 convolution, batch norm, relu and a 3x3/2
/// max pool, or with <c>thumbnail</c> one 3x3 convolution for 32x32 inputs), the stages stage1_ ... and a global
/// average pool; <c>output</c> is the Dense classifier. Parameters are named resnetv10_conv0_weight,
/// resnetv10_stage1_conv0_weight, ..., resnetv10_dense0_bias; structural keys features.0.weight, output.weight.
/// Use <see cref="ModelZoo.GetResNet"/> for the standard depths.
/// </summary>
public class ResNetV1 : HybridBlock
{
    /// <param name="block">Builds one residual block (BasicBlockV1 or BottleneckV1 in the standard nets).</param>
    /// <param name="layers">Blocks per stage.</param>
    /// <param name="channels">The stem's output channels, then each stage's.</param>
    /// <param name="classes">Classifier outputs.</param>
    /// <param name="thumbnail">A single 3x3 convolution as the stem (CIFAR-sized inputs) instead of 7x7/2 and
    /// the max pool.</param>
    public ResNetV1(ResidualBlockFactory block, int[] layers, int[] channels, int classes = 1000,
        bool thumbnail = false, string? prefix = null, ParameterDict? @params = null) : base(prefix, @params)
    {
        ResNetParts.CheckNet(nameof(ResNetV1), block, layers, channels, classes);
        using (NameScope())
        using (ZooNaming.Enter())
        {
            var features = RegisterChild(new HybridSequential(prefix: ""), "features");
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
            for (int i = 0; i < layers.Length; i++)
            {
                int stride = i == 0 ? 1 : 2;
                features.Add(ResNetParts.MakeStage(block, layers[i], channels[i + 1], stride, i + 1,
                    inChannels: channels[i]));
            }
            features.Add(new GlobalAvgPool2D(prefix: ZooNaming.Next("pool")));
            RegisterChild(new Dense(classes, inUnits: channels[^1], prefix: ZooNaming.Next("dense")), "output");
        }
    }

    /// <summary>Everything before the classifier: its output is (N, channels[^1], 1, 1).</summary>
    public HybridSequential Features => ChildLookup.Get<HybridSequential>(this, "features");

    /// <summary>The Dense classifier.</summary>
    public Dense Output => ChildLookup.Get<Dense>(this, "output");

    public override NDArray Forward(NDArray x) => Output.Call(Features.Call(x));
}
