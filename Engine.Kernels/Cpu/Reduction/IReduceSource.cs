namespace Engine.Kernels.Cpu;

/// <summary>
/// Where <see cref="ReduceDriver"/> reads the elements it reduces: memory (<see cref="MemoryReduceSource{T}"/>), or
/// a fused program that computes each line just before it is reduced (CpuFusedReduce), so the reduced values are
/// never stored. The driver asks for the same lines in the same order either way, so a reduction gives the same
/// bits whether its input was materialised or computed on the fly.
/// </summary>
internal unsafe interface IReduceSource<T> where T : unmanaged
{
    /// <summary>
    /// Whether <see cref="Line"/> returns its elements packed (stride 1) whatever stride it was asked for. A
    /// constant per source type, so the driver's test folds away.
    /// </summary>
    static abstract bool Packs { get; }

    /// <summary>
    /// Outputs per tile of the vertical path (column sums): how many contiguous elements each line holds there.
    /// Tiles group outputs only (each output folds the same blocks of rows in the same order whatever its tile),
    /// so the width changes no result.
    /// </summary>
    static abstract int Tile { get; }

    /// <summary>
    /// The <paramref name="n"/> elements at input offsets <paramref name="offset"/> + i * <paramref name="stride"/>:
    /// a pointer to them with that stride, or packed when <see cref="Packs"/>. Valid until the next call on the
    /// same thread.
    /// </summary>
    T* Line(long offset, long stride, long n);
}

/// <summary>Elements read in place from memory.</summary>
internal readonly unsafe struct MemoryReduceSource<T>(T* x) : IReduceSource<T> where T : unmanaged
{
    private readonly T* x = x;

    public static bool Packs => false;

    public static int Tile => ReduceDriver.Tile;

    public T* Line(long offset, long stride, long n) => x + offset;
}
