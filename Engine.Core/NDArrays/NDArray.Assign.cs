using Engine.Kernels;

namespace Engine;

public sealed partial class NDArray
{
    /// <summary>
    /// Overwrites this array's values with <paramref name="source"/> (broadcast to this shape): MXNet's
    /// <c>x[:] = y</c>. A source on another device is copied to this array's device first, as MXNet's copyto does.
    /// Not allowed inside Autograd.Record() on an array the graph uses.
    /// </summary>
    public void Assign(NDArray source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfDisposed();
        if (Autograd.IsRecording && Node is not null)
            throw new InvalidOperationException(
                "Assigning to NDArrays that are already in a computational graph will cause undefined behavior " +
                "when evaluating gradients. Please call backward first to clear the graph or do this out of a " +
                $"record section; you cannot use in-place operations like x.Assign(y) inside Autograd.Record(). " +
                $"(array of shape {Shape})");
        if (source.DType != DType)
            throw new ArgumentException(
                $"assign: source dtype {source.DType.Name()} differs from {DType.Name()}; convert with AsType.");
        var shape = Ops.ShapeRules.Broadcast("assign", source.Shape, Shape);
        if (shape != Shape)
            throw new ArgumentException($"assign: cannot broadcast {source.Shape} into an array of shape {Shape}.");
        using var moved = source.Device == Device ? null : source.CopyTo(Device);
        var local = moved ?? source;
        using var broadcast = local.View(Shape, Ops.ShapeRules.BroadcastLayout(local, Shape).Strides, local.Offset,
            track: false);
        Ops.Imperative.Invoke(Ops.CopyOps.Copy, Ops.NoAttrs.Instance, [broadcast], [this], WriteRequest.Write);
    }

    /// <summary>Fills this array with one value, in place.</summary>
    public void Fill(double value)
    {
        ThrowIfNoData();
        if (Autograd.IsRecording && Node is not null)
            throw new InvalidOperationException(
                $"fill: this array (shape {Shape}) is in a computational graph; filling it inside Autograd.Record() " +
                "would make its gradients wrong. Fill it outside the record section.");
        Ops.Imperative.Invoke(Ops.CopyOps.Full, new Ops.FullAttrs(Shape, value, DType), [], [this],
            WriteRequest.Write);
    }
}
