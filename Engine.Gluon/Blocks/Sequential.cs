using System.Collections;

namespace Engine.Gluon;

/// <summary>Runs its children in order, each output feeding the next (MXNet's nn.Sequential).</summary>
public class Sequential : Block, IEnumerable<Block>
{
    public Sequential(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

    /// <summary>Appends blocks, registered under "0", "1", ...</summary>
    public Sequential Add(params Block[] blocks)
    {
        foreach (var b in blocks) RegisterChild(b);
        return this;
    }

    public int Count => Children.Count;

    /// <summary>The child at an index (negative counts from the end).</summary>
    public Block this[int index] => Containers.At(this, index);

    /// <summary>A new container of the same type, with the same prefix, holding the same child objects.</summary>
    public Sequential this[Range range] => Containers.Slice(this, range);

    public override NDArray Forward(NDArray x) => Containers.Chain(this, x);

    public override void Hybridize(bool active = true, HybridizeOptions? options = null)
    {
        if (GetType() == typeof(Sequential) && Count > 0 && Children.All(c => c.Child is HybridBlock))
            Warnings.Warn($"All children of this Sequential layer '{Name}' are HybridBlocks. Consider using " +
                          "HybridSequential for the best performance.");
        base.Hybridize(active, options);
    }

    public IEnumerator<Block> GetEnumerator() => Children.Select(c => c.Child).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A Sequential of HybridBlocks (MXNet's nn.HybridSequential).</summary>
public class HybridSequential : HybridBlock, IEnumerable<Block>
{
    public HybridSequential(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

    public HybridSequential Add(params Block[] blocks)
    {
        foreach (var b in blocks) RegisterChild(b);
        return this;
    }

    public int Count => Children.Count;

    public Block this[int index] => Containers.At(this, index);

    public HybridSequential this[Range range] => Containers.Slice(this, range);

    public override NDArray Forward(NDArray x) => Containers.Chain(this, x);

    public IEnumerator<Block> GetEnumerator() => Children.Select(c => c.Child).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>What Sequential and HybridSequential share (they derive from different bases).</summary>
internal static class Containers
{
    public static Block At(Block owner, int index)
    {
        var children = owner.Children;
        int n = children.Count;
        if (index < -n || index >= n)
            throw new IndexOutOfRangeException(
                $"{owner.GetType().Name} '{owner.Name}': index {index} is out of range for {n} children.");
        return children[index < 0 ? index + n : index].Child;
    }

    public static T Slice<T>(T owner, Range range) where T : Block
    {
        var children = owner.Children;
        var (start, length) = range.GetOffsetAndLength(children.Count);
        var copy = (T)Activator.CreateInstance(owner.GetType(), owner.Prefix, null)!;
        for (int i = start; i < start + length; i++) copy.RegisterChild(children[i].Child);
        return copy;
    }

    public static NDArray Chain(Block owner, NDArray x)
    {
        foreach (var (_, child) in owner.Children) x = child.Call(x);
        return x;
    }
}
