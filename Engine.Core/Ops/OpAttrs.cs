namespace Engine.Ops;

/// <summary>
/// Typed attributes of an operator. Each operator with attributes declares a sealed record deriving from this;
/// <see cref="ToDictionary"/> gives MXNet's string form for symbol JSON.
/// </summary>
public abstract record OpAttrs
{
    public virtual IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>();
}

/// <summary>The attributes of an operator that has none.</summary>
public sealed record NoAttrs : OpAttrs
{
    public static NoAttrs Instance { get; } = new();
}
