namespace Engine.Kernels.Cpu;

/// <summary>
/// The width of a <see cref="SgemmKernel6xN"/> tile in Vector512s (16 floats each). A struct type argument rather
/// than a parameter, so the JIT compiles one straight-line kernel per width with the unused accumulators gone.
/// </summary>
internal interface ISgemmTileWidth
{
    /// <summary>Vector512 columns per tile row: 1 to 4.</summary>
    static abstract int Vectors { get; }
}

/// <summary>16 columns: six accumulators.</summary>
internal readonly struct SgemmWidth16 : ISgemmTileWidth
{
    public static int Vectors => 1;
}

/// <summary>32 columns: twelve accumulators.</summary>
internal readonly struct SgemmWidth32 : ISgemmTileWidth
{
    public static int Vectors => 2;
}

/// <summary>48 columns: eighteen accumulators.</summary>
internal readonly struct SgemmWidth48 : ISgemmTileWidth
{
    public static int Vectors => 3;
}

/// <summary>64 columns: twenty-four accumulators, the full tile.</summary>
internal readonly struct SgemmWidth64 : ISgemmTileWidth
{
    public static int Vectors => 4;
}
