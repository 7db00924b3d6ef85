namespace Engine.Kernels.Cpu;

/// <summary>
/// A row-major multi-index over some axes (outermost first) that keeps the matching input offset
/// <see cref="X"/> and output offset <see cref="Y"/> up to date as it advances. The caller lends the
/// coordinate storage (usually stackalloc), so walking allocates nothing.
/// </summary>
internal ref struct Odometer
{
    private readonly ReadOnlySpan<long> sizes;
    private readonly ReadOnlySpan<long> xStrides;
    private readonly ReadOnlySpan<long> yStrides;
    private readonly Span<long> coords;

    /// <summary>Starts at flat position <paramref name="index"/>; <paramref name="yStrides"/> may be empty.</summary>
    public Odometer(ReadOnlySpan<long> sizes, ReadOnlySpan<long> xStrides, ReadOnlySpan<long> yStrides,
        Span<long> coords, long index)
    {
        this.sizes = sizes;
        this.xStrides = xStrides;
        this.yStrides = yStrides;
        this.coords = coords[..sizes.Length];
        X = 0;
        Y = 0;
        for (int a = sizes.Length - 1; a >= 0; a--)
        {
            long c = index % sizes[a];
            index /= sizes[a];
            this.coords[a] = c;
            X += c * xStrides[a];
            if (!yStrides.IsEmpty) Y += c * yStrides[a];
        }
    }

    public long X { get; private set; }

    public long Y { get; private set; }

    /// <summary>Moves to the next position (after the last one it wraps to the first).</summary>
    public void Next()
    {
        for (int a = sizes.Length - 1; a >= 0; a--)
        {
            X += xStrides[a];
            if (!yStrides.IsEmpty) Y += yStrides[a];
            if (++coords[a] < sizes[a]) return;
            X -= xStrides[a] * sizes[a];
            if (!yStrides.IsEmpty) Y -= yStrides[a] * sizes[a];
            coords[a] = 0;
        }
    }
}
