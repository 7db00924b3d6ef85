using Engine.Ops;

namespace Engine.Graphs;

/// <summary>Where a value of a compiled graph lives during a call.</summary>
internal enum ValueSource : byte
{
    /// <summary>A graph input: the caller's array (layout relative to its offset).</summary>
    Input,

    /// <summary>A parameter, bound per call (layout relative to its offset).</summary>
    Parameter,

    /// <summary>A captured constant (absolute layout in its buffer).</summary>
    Constant,

    /// <summary>A buffer of the memory plan: a fixed range of the call's arena (absolute layout there).</summary>
    Arena,

    /// <summary>A graph output (or what one is a view of): a fresh array per call, never in the arena.</summary>
    Owned,
}

/// <summary>
/// One value of a compiled graph, resolved at compile time: its source, the index there (input, parameter,
/// constant, plan storage or owned array), its layout (views included) and, for planned values, the identity the
/// executor's read check expects to find in the storage.
/// </summary>
internal sealed class ValueSlot(ValueSource source, int index, TensorLayout layout, DType dtype, int writer,
    string name)
{
    public ValueSource Source { get; } = source;

    /// <summary>Input, parameter, constant, owned-array or plan-storage number.</summary>
    public int Index { get; } = index;

    public TensorLayout Layout { get; } = layout;

    public DType DType { get; } = dtype;

    /// <summary>For arena values: the number of the value that wrote the storage (views share their root's).</summary>
    public int Writer { get; } = writer;

    public string Name { get; } = name;

    public TensorType Type => new(Layout.Shape, DType);
}
