using Engine.Gluon;
using Engine.Gluon.NN;

namespace Engine.Samples.FashionMnist;

/// <summary>The models the trainer knows.</summary>
public static class Models
{
    /// <summary>784-256-10 with ReLU.</summary>
    public static Block Mlp()
    {
        var net = new HybridSequential();
        net.Add(new Dense(256, activation: "relu"), new Dense(10));
        return net;
    }

    /// <summary>seeds/003's LeNet with ReLU: two conv/pool stages and three dense layers.</summary>
    public static Block LeNet() => new LeNetNet();

    private sealed class LeNetNet : HybridBlock
    {
        private readonly Conv2D conv1 = new(channels: 6, kernelSize: 5);
        private readonly MaxPool2D pool1 = new(poolSize: 2);
        private readonly Conv2D conv2 = new(channels: 16, kernelSize: 5);
        private readonly MaxPool2D pool2 = new(poolSize: 2);
        private readonly Dense fc1 = new(120), fc2 = new(84);
        private readonly Parameter fc3Weight;

        public LeNetNet() => fc3Weight = Params.Get("fc3_weight", shape: new Shape(10, 84));

        protected override string Alias => "net";

        public override NDArray Forward(NDArray x)
        {
            x = pool1.Call(Nd.Relu(conv1.Call(x)));
            x = pool2.Call(Nd.Relu(conv2.Call(x)));
            x = x.Reshape(0, -1);
            x = Nd.Relu(fc1.Call(x));
            x = Nd.Relu(fc2.Call(x));
            return Nd.Dot(x, fc3Weight.Data(), transposeB: true);
        }
    }
}
