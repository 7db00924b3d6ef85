namespace Engine.Kernels;

/// <summary>What take (and its backward) does with an index outside [0, size) of the gathered axis.</summary>
public enum TakeMode
{
    /// <summary>
    /// Throws naming the index. Negative indices in [-size, 0) count from the end, as in NumPy's take.
    /// </summary>
    Raise,

    /// <summary>Clamps to [0, size - 1] (MXNet's default).</summary>
    Clip,

    /// <summary>Wraps around: the index modulo size, made non-negative.</summary>
    Wrap,
}
