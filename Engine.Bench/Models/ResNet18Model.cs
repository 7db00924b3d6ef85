namespace Engine.Bench.Models;

/// <summary>
/// ResNet-18 for 32x32 input (CIFAR style), batch 32 by default: a 3x3 stem conv with batch norm and relu (no max
/// pool),
/// four stages of two BasicBlock v1 (conv3x3 BN relu conv3x3 BN, plus the shortcut, then relu) with 64, 128, 256
/// and 512 channels, the first block of stages 2-4 striding by 2 with a 1x1 conv + BN shortcut, then global
/// average pooling and dense 10. Convolutions have no bias, as in Gluon's model zoo.
/// </summary>
public sealed class ResNet18Model : TrainModel
{
    private readonly int batch;
    private readonly Conv stem;
    private readonly Norm stemNorm;
    private readonly List<Block> blocks = [];
    private readonly NDArray fc, fcBias;

    /// <summary>The train suite's batch is 32; the GPU check asks for 128.</summary>
    public ResNet18Model(int batch = 32)
    {
        this.batch = batch;
        stem = new Conv(Weight(64, 3, 3, 3), 1, 1);
        stemNorm = NewNorm(64);
        int inChannels = 64;
        foreach (var (channels, stride) in new[] { (64, 1), (128, 2), (256, 2), (512, 2) })
        {
            for (int i = 0; i < 2; i++)
            {
                int s = i == 0 ? stride : 1;
                bool down = i == 0 && (s != 1 || inChannels != channels);
                blocks.Add(new Block(
                    new Conv(Weight(channels, inChannels, 3, 3), s, 1), NewNorm(channels),
                    new Conv(Weight(channels, channels, 3, 3), 1, 1), NewNorm(channels),
                    down ? new Conv(Weight(channels, inChannels, 1, 1), s, 0) : null,
                    down ? NewNorm(channels) : null));
                inChannels = channels;
            }
        }
        fc = Weight(10, 512);
        fcBias = Bias(10);
    }

    public override string Name => $"resnet18 b{batch}";

    public override Shape InputShape => new(batch, 3, 32, 32);

    public override NDArray Forward(NDArray x)
    {
        var h = Nd.Relu(Apply(stemNorm, Apply(stem, x)));
        foreach (var b in blocks)
        {
            var r = Nd.Relu(Apply(b.Norm1, Apply(b.Conv1, h)));
            r = Apply(b.Norm2, Apply(b.Conv2, r));
            var shortcut = b.Down is null ? h : Apply(b.DownNorm!, Apply(b.Down, h));
            h = Nd.Relu(r + shortcut);
        }
        return Nd.FullyConnected(Nd.GlobalAvgPool2D(h), fc, fcBias, 10);
    }

    private static NDArray Apply(Conv c, NDArray x) =>
        Nd.Convolution(x, c.Weight, null, stride: [c.Stride, c.Stride], pad: [c.Pad, c.Pad]);

    private static NDArray Apply(Norm n, NDArray x) => Nd.BatchNorm(x, n.Gamma, n.Beta, n.Mean, n.Var);

    private Norm NewNorm(int channels) =>
        new(Constant(channels, 1), Bias(channels), State(channels, 0), State(channels, 1));

    private sealed record Conv(NDArray Weight, int Stride, int Pad);

    private sealed record Norm(NDArray Gamma, NDArray Beta, NDArray Mean, NDArray Var);

    private sealed record Block(Conv Conv1, Norm Norm1, Conv Conv2, Norm Norm2, Conv? Down, Norm? DownNorm);
}
