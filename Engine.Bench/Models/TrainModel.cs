namespace Engine.Bench.Models;

/// <summary>
/// A network for the train suite, written with Nd operators and Autograd directly (no Gluon layers): parameters are
/// NDArrays with gradients attached, running statistics are plain arrays. Weights are He-normal, biases zero.
/// </summary>
public abstract class TrainModel : IDisposable
{
    private readonly List<NDArray> parameters = [];
    private readonly List<NDArray> state = [];

    /// <summary>The model and batch, e.g. "lenet b256"; cases append "step" or "fwd".</summary>
    public abstract string Name { get; }

    /// <summary>The input batch shape, (N, features) or (N, C, H, W).</summary>
    public abstract Shape InputShape { get; }

    public IReadOnlyList<NDArray> Parameters => parameters;

    /// <summary>Logits (N, 10) for input <paramref name="x"/>; called inside Autograd.Record().</summary>
    public abstract NDArray Forward(NDArray x);

    /// <summary>A weight of <paramref name="shape"/> (out, in, ...), normal with std sqrt(2 / fan-in).</summary>
    protected NDArray Weight(params int[] shape)
    {
        long fanIn = shape.Skip(1).Aggregate(1L, (p, d) => p * d);
        return Parameter(Nd.RandomNormal(0, Math.Sqrt(2.0 / fanIn), new Shape(shape)));
    }

    protected NDArray Bias(int n) => Parameter(Nd.Zeros(n));

    /// <summary>A learnable array filled with <paramref name="value"/> (batch norm's gamma is 1).</summary>
    protected NDArray Constant(int n, double value) => Parameter(Nd.Full(new Shape(n), value));

    /// <summary>A non-learnable array (running mean and variance).</summary>
    protected NDArray State(int n, double value)
    {
        var a = Nd.Full(new Shape(n), value);
        state.Add(a);
        return a;
    }

    public void Dispose()
    {
        foreach (var a in parameters.Concat(state)) a.Dispose();
        parameters.Clear();
        state.Clear();
        GC.SuppressFinalize(this);
    }

    private NDArray Parameter(NDArray a)
    {
        a.AttachGrad();
        parameters.Add(a);
        return a;
    }
}
