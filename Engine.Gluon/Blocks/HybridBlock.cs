namespace Engine.Gluon;

/// <summary>Options of <see cref="Block.Hybridize"/>, MXNet's static_alloc and static_shape.</summary>
public sealed record HybridizeOptions
{
    public bool StaticAlloc { get; init; }

    public bool StaticShape { get; init; }
}

/// <summary>
/// A block whose Forward uses only operations that can also be traced into a graph (MXNet's HybridBlock). Its
/// children must be HybridBlocks. It runs imperatively; <see cref="Hybridize"/> records the request (the graph
/// compiler that will act on it is described in docs/architecture.md).
/// </summary>
public abstract class HybridBlock : Block
{
    private static int compilerNoticeShown;

    protected HybridBlock(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

    /// <summary>Whether Hybridize(true) was called.</summary>
    public bool IsHybridized { get; private set; }

    public HybridizeOptions Options { get; private set; } = new();

    public override T RegisterChild<T>(T block, string? name = null)
    {
        if (block is not HybridBlock)
            throw new ArgumentException(
                $"Children of HybridBlock must also be HybridBlock, but {block.Name} has type {block.GetType().Name}. " +
                "If you are using Sequential, please try HybridSequential instead.");
        return base.RegisterChild(block, name);
    }

    public override void Hybridize(bool active = true, HybridizeOptions? options = null)
    {
        options ??= new HybridizeOptions();
        if (options.StaticShape && !options.StaticAlloc)
            throw new ArgumentException(
                $"{Name}: StaticShape requires StaticAlloc; use new HybridizeOptions {{ StaticAlloc = true, " +
                "StaticShape = true }}.");
        if (active && HasHooks)
            Warnings.Warn($"\"{Name}\" is being hybridized while still having forward hook/pre-hook. If \"{Name}\" " +
                          "is a child of HybridBlock, the hooks will not take effect.");
        IsHybridized = active;
        Options = options;
        if (active && Interlocked.Exchange(ref compilerNoticeShown, 1) == 0)
            Warnings.Warn("Hybridize: this build runs hybridized blocks imperatively (the graph compiler is not " +
                          "part of it yet); results are the same, only the speed-up is missing.");
        base.Hybridize(active, options);
    }
}
