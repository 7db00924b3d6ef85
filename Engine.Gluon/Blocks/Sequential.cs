using System.Collections;
using System.Reflection;

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

    /// <summary>
    /// A new container with the same prefix holding the same child objects: of the same type when it has a
    /// (prefix, params) constructor, else of the nearest base type that has one (Sequential at worst).
    /// </summary>
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
        var copy = (T)ContainerConstructor(owner.GetType(), typeof(T)).Invoke([owner.Prefix, null]);
        for (int i = start; i < start + length; i++) copy.RegisterChild(children[i].Child);
        return copy;
    }

    /// <summary>The (string? prefix, ParameterDict? params) constructor of a type or of its nearest base
    /// type.</summary>
    private static ConstructorInfo ContainerConstructor(Type type, Type root)
    {
        for (var t = type; t is not null && root.IsAssignableFrom(t); t = t.BaseType)
        {
            if (t.IsAbstract) continue;
            var ctor = t.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic,
                [typeof(string), typeof(ParameterDict)]);
            if (ctor is not null) return ctor;
        }
        throw new InvalidOperationException(
            $"{type.Name}: slicing needs a (string? prefix, ParameterDict? params) constructor on {type.Name} or " +
            $"one of its base types up to {root.Name}.");
    }

    public static NDArray Chain(Block owner, NDArray x)
    {
        foreach (var (_, child) in owner.Children) x = child.Call(x);
        return x;
    }
}
