using Engine.Gluon.Initializers;
using Engine.Gluon.NN;

namespace Engine.Gluon.Vision;

/// <summary>
/// VGG (Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition"; MXNet's
/// model_zoo.vision.VGG), with MXNet's structure, names and initializers: <c>features</c> holds the 3x3
/// convolutions (Xavier gaussian, factor out, magnitude 2; optionally each followed by batch norm), relus and a 2x2
/// max pool after each group, then two Dense(4096, relu) layers with dropout 0.5; <c>output</c> is the Dense
/// classifier (both Dense weights Normal(0.01)). Parameters are named vgg0_conv0_weight, ..., vgg0_dense0_weight,
/// vgg0_dense2_bias. The first Dense's input size is inferred, so any input of at least 32x32 works.
/// </summary>
public class Vgg : HybridBlock
{
    /// <param name="layers">Convolutions per group.</param>
    /// <param name="filters">Channels of each group; as many entries as <paramref name="layers"/>.</param>
    /// <param name="classes">Classifier outputs.</param>
    /// <param name="batchNorm">Batch norm after every convolution (the vgg*_bn variants).</param>
    public Vgg(int[] layers, int[] filters, int classes = 1000, bool batchNorm = false, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(filters);
        if (layers.Length == 0 || layers.Length != filters.Length)
            throw new ArgumentException(
                $"Vgg: layers and filters must have the same, non-zero length; got {layers.Length} and " +
                $"{filters.Length}.");
        if (layers.Any(n => n <= 0) || filters.Any(c => c <= 0))
            throw new ArgumentException(
                $"Vgg: layers and filters must be positive, got layers [{string.Join(", ", layers)}] and " +
                $"filters [{string.Join(", ", filters)}].");
        if (classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), classes,
                $"Vgg: classes must be positive, got {classes}.");
        using (NameScope())
        using (ZooNaming.Enter())
        {
            var features = RegisterChild(MakeFeatures(layers, filters, batchNorm), "features");
            features.Add(new Dense(4096, activation: "relu", weightInitializer: new Normal(),
                biasInitializer: new Zero(), prefix: ZooNaming.Next("dense")));
            features.Add(new Dropout(rate: 0.5, prefix: ZooNaming.Next("dropout")));
            features.Add(new Dense(4096, activation: "relu", weightInitializer: new Normal(),
                biasInitializer: new Zero(), prefix: ZooNaming.Next("dense")));
            features.Add(new Dropout(rate: 0.5, prefix: ZooNaming.Next("dropout")));
            RegisterChild(new Dense(classes, weightInitializer: new Normal(), biasInitializer: new Zero(),
                prefix: ZooNaming.Next("dense")), "output");
        }
    }

    /// <summary>The convolution groups and the two hidden Dense layers.</summary>
    public HybridSequential Features => ChildLookup.Get<HybridSequential>(this, "features");

    /// <summary>The Dense classifier.</summary>
    public Dense Output => ChildLookup.Get<Dense>(this, "output");

    public override NDArray Forward(NDArray x) => Output.Call(Features.Call(x));

    private static HybridSequential MakeFeatures(int[] layers, int[] filters, bool batchNorm)
    {
        var featurizer = new HybridSequential(prefix: "");
        for (int i = 0; i < layers.Length; i++)
        {
            for (int j = 0; j < layers[i]; j++)
            {
                featurizer.Add(new Conv2D(filters[i], kernelSize: 3, padding: 1,
                    weightInitializer: new Xavier(RandomType.Gaussian, FactorType.Out, magnitude: 2),
                    biasInitializer: new Zero(), prefix: ZooNaming.Next("conv")));
                if (batchNorm) featurizer.Add(new BatchNorm(prefix: ZooNaming.Next("batchnorm")));
                featurizer.Add(new Activation("relu", prefix: ZooNaming.Next("relu")));
            }
            featurizer.Add(new MaxPool2D(strides: 2, prefix: ZooNaming.Next("pool")));
        }
        return featurizer;
    }
}
