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
    public Block this[int index]
    {
        get
        {
            int n = Count;
            if (index < -n || index >= n)
                throw new IndexOutOfRangeException(
                    $"{GetType().Name} '{Name}': index {index} is out of range for {n} children.");
            return Children[index < 0 ? index + n : index].Child;
        }
    }

    /// <summary>A new container of the same type, with the same prefix, holding the same child objects.</summary>
    public Sequential this[Range range]
    {
        get
        {
            var (start, length) = range.GetOffsetAndLength(Count);
            var copy = (Sequential)Activator.CreateInstance(GetType(), Prefix, null)!;
            for (int i = start; i < start + length; i++) copy.RegisterChild(Children[i].Child);
            return copy;
        }
    }

    public override NDArray Forward(NDArray x)
    {
        var children = Children;
        if (children.Count == 0) return x;
        NDArray current = x;
        foreach (var (_, child) in children) current = child.Call(current);
        return current;
    }

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

    public Block this[int index]
    {
        get
        {
            int n = Count;
            if (index < -n || index >= n)
                throw new IndexOutOfRangeException(
                    $"{GetType().Name} '{Name}': index {index} is out of range for {n} children.");
            return Children[index < 0 ? index + n : index].Child;
        }
    }

    public HybridSequential this[Range range]
    {
        get
        {
            var (start, length) = range.GetOffsetAndLength(Count);
            var copy = (HybridSequential)Activator.CreateInstance(GetType(), Prefix, null)!;
            for (int i = start; i < start + length; i++) copy.RegisterChild(Children[i].Child);
            return copy;
        }
    }

    public override NDArray Forward(NDArray x)
    {
        NDArray current = x;
        foreach (var (_, child) in Children) current = child.Call(current);
        return current;
    }

    public IEnumerator<Block> GetEnumerator() => Children.Select(c => c.Child).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
