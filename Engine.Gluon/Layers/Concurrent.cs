namespace Engine.Gluon.NN;

/// <summary>
/// Runs every child on the same input and concatenates their outputs along <see cref="Axis"/> (MXNet's
/// contrib.nn.Concurrent; HybridConcurrent is the hybridizable one). Children are added with <c>Add</c> as in
/// Sequential.
/// </summary>
public class Concurrent : Sequential
{
    public Concurrent(int axis = -1, string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) =>
        Axis = axis;

    public Concurrent(string? prefix, ParameterDict? @params) : this(-1, prefix, @params) { }

    public int Axis { get; }

    public override NDArray Forward(NDArray x) => ConcurrentOutputs.Concat(this, Axis, x);
}

/// <summary>The hybridizable <see cref="Concurrent"/> (MXNet's contrib.nn.HybridConcurrent): traces into one
/// Concat node over the children's outputs.</summary>
public class HybridConcurrent : HybridSequential
{
    public HybridConcurrent(int axis = -1, string? prefix = null, ParameterDict? @params = null)
        : base(prefix, @params) => Axis = axis;

    public HybridConcurrent(string? prefix, ParameterDict? @params) : this(-1, prefix, @params) { }

    public int Axis { get; }

    public override NDArray Forward(NDArray x) => ConcurrentOutputs.Concat(this, Axis, x);
}

internal static class ConcurrentOutputs
{
    public static NDArray Concat(Block owner, int axis, NDArray x)
    {
        var children = owner.Children;
        if (children.Count == 0)
            throw new InvalidOperationException(
                $"{owner.GetType().Name} '{owner.Name}': has no children to run; Add blocks before calling it.");
        var outputs = children.Select(c => c.Child.Call(x)).ToArray();
        var first = outputs[0].Shape;
        foreach (var (o, k) in outputs.Select((o, k) => (o, k)))
        {
            if (o.Rank != first.Rank || o.Rank == 0)
                throw new ArgumentException(
                    $"{owner.GetType().Name} '{owner.Name}': child {k} returned {o.Shape} but child 0 returned " +
                    $"{first}; concatenation along axis {axis} needs outputs of the same rank.");
        }
        return Nd.Concat(axis, outputs);
    }
}
