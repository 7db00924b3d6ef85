using Engine.Gluon;
using Engine.Gluon.NN;

namespace Engine.Tests.Gluon;

// The seed documents' networks, translated line for line (seeds/000, 002, 003, 004).

/// <summary>seeds/004: the MLP block with a hidden and an output layer.</summary>
public sealed class Mlp : Block
{
    private readonly Dense hidden = new(256, activation: "relu");
    private readonly Dense output = new(10);

    public override NDArray Forward(NDArray x) => output.Call(hidden.Call(x));
}

/// <summary>seeds/004: a Sequential written by hand, registering its children itself.</summary>
public sealed class MySequential : Block
{
    public void Add(Block block) => RegisterChild(block, block.Name);

    public override NDArray Forward(NDArray x)
    {
        foreach (var (_, block) in Children) x = block.Call(x);
        return x;
    }
}

/// <summary>seeds/004: a constant parameter, a shared layer and a data-dependent while loop.</summary>
public sealed class FixedHiddenMlp : Block
{
    private readonly ConstantParameter randWeight;
    private readonly Dense dense = new(20, activation: "relu");

    public FixedHiddenMlp() =>
        randWeight = Params.GetConstant("rand_weight", Nd.RandomUniform(0, 1, new Shape(20, 20)));

    public override NDArray Forward(NDArray x)
    {
        x = dense.Call(x);
        x = Nd.Relu(Nd.Dot(x, randWeight.Data()) + 1);
        x = dense.Call(x);
        while (Nd.Sum(Nd.Abs(x)).ToScalar() > 1) x = x / 2;
        return Nd.Sum(x);
    }
}

/// <summary>seeds/004: a block nesting a Sequential and a Dense.</summary>
public sealed class NestMlp : Block
{
    private readonly Sequential net = new();
    private readonly Dense dense = new(16, activation: "relu");

    public NestMlp()
    {
        net.Add(new Dense(64, activation: "relu"), new Dense(32, activation: "relu"));
    }

    public override NDArray Forward(NDArray x) => dense.Call(net.Call(x));
}

/// <summary>seeds/004 exercise: runs two networks on the same input and concatenates their outputs.</summary>
public sealed class ParallelBlock : Block
{
    private readonly Block first, second;

    public ParallelBlock(Block first, Block second)
    {
        this.first = first;
        this.second = second;
    }

    public override NDArray Forward(NDArray x) => Nd.Concat(1, first.Call(x), second.Call(x));
}

/// <summary>seeds/003: the hybrid LeNet with a hand-made fc3 weight.</summary>
public sealed class Net : HybridBlock
{
    private readonly Conv2D conv1 = new(channels: 6, kernelSize: 5);
    private readonly MaxPool2D pool1 = new(poolSize: 2);
    private readonly Conv2D conv2 = new(channels: 16, kernelSize: 5);
    private readonly MaxPool2D pool2 = new(poolSize: 2);
    private readonly Dense fc1 = new(120), fc2 = new(84);
    private readonly Parameter fc3Weight;

    public Net() => fc3Weight = Params.Get("fc3_weight", shape: new Shape(10, 84));

    public List<string> Printed { get; } = new();

    public override NDArray Forward(NDArray x)
    {
        Printed.Add(x.Shape.ToString());
        x = pool1.Call(Nd.Relu(conv1.Call(x)));
        x = pool2.Call(Nd.Relu(conv2.Call(x)));
        x = x.Reshape(0, -1);
        x = Nd.Relu(fc1.Call(x));
        x = Nd.Relu(fc2.Call(x));
        return Nd.Dot(x, fc3Weight.Data(), transposeB: true);
    }
}

/// <summary>seeds/000: ResNet's BasicBlockV1 with a conditional downsample.</summary>
public sealed class BasicBlockV1 : HybridBlock
{
    private readonly HybridSequential body = new(prefix: "");
    private readonly HybridSequential? downsample;

    public BasicBlockV1(int channels, int stride, bool downsample = false, int inChannels = 0)
    {
        body.Add(Conv3x3(channels, stride, inChannels), new BatchNorm(), new Activation("relu"),
            Conv3x3(channels, 1, channels), new BatchNorm());
        if (downsample)
        {
            this.downsample = new HybridSequential(prefix: "");
            this.downsample.Add(new Conv2D(channels, kernelSize: 1, strides: stride, useBias: false,
                inChannels: inChannels), new BatchNorm());
        }
    }

    private static Conv2D Conv3x3(int channels, int stride, int inChannels) =>
        new(channels, kernelSize: 3, strides: stride, padding: 1, useBias: false, inChannels: inChannels);

    public override NDArray Forward(NDArray x)
    {
        var residual = x;
        x = body.Call(x);
        if (downsample is not null) residual = downsample.Call(residual);
        return Nd.Relu(residual + x);
    }
}

/// <summary>seeds/002: a model kept in Sequential containers and indexed from Forward (ToySSD's pattern).</summary>
public sealed class ToySsd : Block
{
    private readonly Sequential model = new();

    public ToySsd(int numClasses)
    {
        NumClasses = numClasses;
        var body = new Sequential();
        body.Add(new Conv2D(8, 3, padding: 1, activation: "relu"), new MaxPool2D());
        var downsamplers = new Sequential();
        for (int i = 0; i < 3; i++) downsamplers.Add(new Conv2D(8, 3, padding: 1, activation: "relu"), new MaxPool2D());
        var classPredictors = new Sequential();
        for (int i = 0; i < 5; i++) classPredictors.Add(new Conv2D(2 * (numClasses + 1), 3, padding: 1));
        model.Add(body, downsamplers, classPredictors);
    }

    public int NumClasses { get; }

    public override NDArray Forward(NDArray x)
    {
        var body = (Sequential)((Sequential)model[0]);
        var downsamplers = (Sequential)model[1];
        var classPredictors = (Sequential)model[2];
        var predictions = new List<NDArray>();
        x = body.Call(x);
        for (int i = 0; i < 5; i++)
        {
            predictions.Add(classPredictors[i].Call(x).Transpose(0, 2, 3, 1).Reshape(0, -1));
            if (i < 3) x = downsamplers[2 * i + 1].Call(downsamplers[2 * i].Call(x));
            else if (i == 3) x = Nd.GlobalMaxPool2D(x);
        }
        return Nd.Concat(1, predictions.ToArray()).Reshape(0, -1, NumClasses + 1);
    }
}

/// <summary>seeds/002: the same model with its predictors in a plain List, which CollectParams warns about.</summary>
public sealed class ToySsdWithList : Block
{
    public List<Block> Downsamplers { get; } = [new Conv2D(4, 3), new Conv2D(4, 3)];

    private readonly Dense head = new(2);

    public override NDArray Forward(NDArray x) => head.Call(x);
}
