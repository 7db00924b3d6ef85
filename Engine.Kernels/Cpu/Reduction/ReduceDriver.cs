using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Walks a <see cref="ReducePlan"/> with one reducer. Two paths:
/// <list type="bullet">
/// <item>vertical, when the innermost kept axis is contiguous: whole tiles of outputs accumulate row after row with
/// vector adds (reducing an outer axis, e.g. a column sum);</item>
/// <item>per output otherwise: each result folds lines of its reduced elements, with a horizontal SIMD kernel when
/// the innermost reduced axis is contiguous (a row sum, a full reduction) and a strided loop when it is not.</item>
/// </list>
/// Every result is the in-order fold of partial results over fixed blocks of its reduced elements. The blocks do
/// not depend on the thread count, so the result is the same bit for bit whether the blocks run on one thread or
/// are spread over several (which happens when there are too few outputs to keep the threads busy).
/// </summary>
internal static unsafe class ReduceDriver
{
    /// <summary>Reduced elements per partial result: the fold over blocks adds under 0.1% to the work.</summary>
    internal const long Block = 1 << 14;

    /// <summary>Elements a thread should visit at least: 10 to 50 us of work, well above a dispatch.</summary>
    internal const long MinWorkPerThread = 1 << 16;

    /// <summary>
    /// Outputs per tile of the vertical path when reading memory (<see cref="IReduceSource{T}.Tile"/>): an
    /// accumulator tile and a partial tile fit in L1.
    /// </summary>
    internal const int Tile = 512;

    public static void Run<T, A, TR>(ReducePlan plan, T* x, T* y)
        where T : unmanaged where A : unmanaged where TR : IReducer<T, A> =>
        Run<T, A, TR, MemoryReduceSource<T>>(plan, new MemoryReduceSource<T>(x), y);

    /// <summary>The reduction of the elements <paramref name="x"/> gives (read in place or computed per line).
    /// </summary>
    public static void Run<T, A, TR, TS>(ReducePlan plan, TS x, T* y)
        where T : unmanaged where A : unmanaged where TR : IReducer<T, A> where TS : IReduceSource<T>
    {
        if (plan.OutputCount == 0) return;
        if (plan.ReduceCount == 0)
        {
            new Span<T>(y, checked((int)plan.OutputCount)).Fill(TR.Finish(TR.Identity, 0));
            return;
        }
        int k = plan.KeptSizes.Length;
        // Even two or three contiguous outputs go vertical: one pass over memory beats one strided pass per output.
        if (k > 0 && plan.KeptX[k - 1] == 1)
            RunVertical<T, A, TR, TS>(plan, x, y);
        else
            RunPerOutput<T, A, TR, TS>(plan, x, y);
    }

    /// <summary>Whether too few work items exist to occupy the threads, so blocks should run in parallel.</summary>
    private static bool SplitBlocks(long items, long blocks, long work) =>
        blocks > 1 && items < 4L * CpuParallel.MaxThreads && work >= 2 * MinWorkPerThread;

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    // ---- per output ----

    private static void RunPerOutput<T, A, TR, TS>(ReducePlan plan, TS x, T* y)
        where T : unmanaged where A : unmanaged where TR : IReducer<T, A> where TS : IReduceSource<T>
    {
        long nOut = plan.OutputCount, nRed = plan.ReduceCount, nBlocks = CeilDiv(nRed, Block);
        if (!SplitBlocks(nOut, nBlocks, nOut * nRed))
        {
            CpuParallel.For(nOut, Math.Max(1, MinWorkPerThread / nRed), (start, end) =>
            {
                Span<long> coords = stackalloc long[plan.KeptSizes.Length];
                var kept = new Odometer(plan.KeptSizes, plan.KeptX, plan.KeptY, coords, start);
                for (long o = start; o < end; o++, kept.Next())
                {
                    A acc = TR.Identity;
                    for (long b = 0; b < nBlocks; b++)
                        acc = TR.Combine(acc, ReduceRange<T, A, TR, TS>(plan, x, kept.X, b * Block, BlockEnd(b, nRed)));
                    y[kept.Y] = TR.Finish(acc, nRed);
                }
            });
            return;
        }
        var partials = new A[nOut * nBlocks];
        fixed (A* part = partials)
        {
            A* pp = part;
            CpuParallel.For(nOut * nBlocks, Math.Max(1, MinWorkPerThread / Block), (start, end) =>
            {
                Span<long> coords = stackalloc long[plan.KeptSizes.Length];
                for (long item = start; item < end; item++)
                {
                    long o = item / nBlocks, b = item % nBlocks;
                    var kept = new Odometer(plan.KeptSizes, plan.KeptX, plan.KeptY, coords, o);
                    pp[item] = ReduceRange<T, A, TR, TS>(plan, x, kept.X, b * Block, BlockEnd(b, nRed));
                }
            });
            Span<long> outCoords = stackalloc long[plan.KeptSizes.Length];
            var outputs = new Odometer(plan.KeptSizes, plan.KeptX, plan.KeptY, outCoords, 0);
            for (long o = 0; o < nOut; o++, outputs.Next())
            {
                A acc = TR.Identity;
                for (long b = 0; b < nBlocks; b++) acc = TR.Combine(acc, pp[o * nBlocks + b]);
                y[outputs.Y] = TR.Finish(acc, nRed);
            }
        }
    }

    private static long BlockEnd(long b, long nRed) => Math.Min(nRed, (b + 1) * Block);

    /// <summary>Folds reduced elements [start, end) (odometer order) of the result at input offset xBase.</summary>
    // This and AccumulateRows are compiled fully optimised at once: each source type (memory, every fused
    // program's element type) is a new instantiation, called per line, which tiering would leave slow for long.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static A ReduceRange<T, A, TR, TS>(ReducePlan plan, TS x, long xBase, long start, long end)
        where T : unmanaged where A : unmanaged where TR : IReducer<T, A> where TS : IReduceSource<T>
    {
        int r = plan.ReducedSizes.Length;
        if (r == 0) return TR.Map(*x.Line(plan.Offset + xBase, 1, 1));
        long lineLength = plan.ReducedSizes[r - 1], stride = plan.ReducedX[r - 1];
        Span<long> coords = stackalloc long[r - 1];
        var lines = new Odometer(plan.ReducedSizes.AsSpan(0, r - 1), plan.ReducedX.AsSpan(0, r - 1), default,
            coords, start / lineLength);
        long c = start % lineLength, remaining = end - start;
        A acc = TR.Identity;
        while (true)
        {
            long n = Math.Min(lineLength - c, remaining);
            T* p = x.Line(plan.Offset + xBase + lines.X + c * stride, stride, n);
            long step = TS.Packs ? 1 : stride;
            acc = TR.Combine(acc, step == 1 ? TR.ReduceLine(p, (nint)n) : StridedLine<T, A, TR>(p, step, n));
            remaining -= n;
            if (remaining == 0) return acc;
            c = 0;
            lines.Next();
        }
    }

    /// <summary>
    /// A line with a stride other than 1 (or 0, broadcast): scalar, four accumulators to hide latency.
    /// </summary>
    private static A StridedLine<T, A, TR>(T* p, long stride, long n)
        where T : unmanaged where A : unmanaged where TR : IReducer<T, A>
    {
        A a0 = TR.Identity, a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (; i <= n - 4; i += 4)
        {
            a0 = TR.Combine(a0, TR.Map(p[i * stride]));
            a1 = TR.Combine(a1, TR.Map(p[(i + 1) * stride]));
            a2 = TR.Combine(a2, TR.Map(p[(i + 2) * stride]));
            a3 = TR.Combine(a3, TR.Map(p[(i + 3) * stride]));
        }
        for (; i < n; i++) a0 = TR.Combine(a0, TR.Map(p[i * stride]));
        return TR.Combine(TR.Combine(a0, a1), TR.Combine(a2, a3));
    }

    // ---- vertical ----

    private static void RunVertical<T, A, TR, TS>(ReducePlan plan, TS x, T* y)
        where T : unmanaged where A : unmanaged where TR : IReducer<T, A> where TS : IReduceSource<T>
    {
        int k = plan.KeptSizes.Length;
        long width = plan.KeptSizes[k - 1], yInner = plan.KeptY[k - 1];
        var outerSizes = plan.KeptSizes.AsSpan(0, k - 1).ToArray();
        var outerX = plan.KeptX.AsSpan(0, k - 1).ToArray();
        var outerY = plan.KeptY.AsSpan(0, k - 1).ToArray();
        long nOuter = plan.OutputCount / width, nTiles = CeilDiv(width, TS.Tile), items = nOuter * nTiles;
        long nRed = plan.ReduceCount;
        long rowsPerBlock = Math.Max(64, Block / width), nBlocks = CeilDiv(nRed, rowsPerBlock);
        long tileWidth = Math.Min(width, TS.Tile);

        // One tile of outputs: (input offset of its first element, output offset, width).
        (long X, long Y, int W) TileOf(long item)
        {
            long o = item / nTiles, t = item % nTiles;
            Span<long> coords = stackalloc long[outerSizes.Length];
            var outer = new Odometer(outerSizes, outerX, outerY, coords, o);
            long first = t * TS.Tile;
            return (outer.X + first, outer.Y + first * yInner, (int)Math.Min(TS.Tile, width - first));
        }

        void Write(A* acc, (long X, long Y, int W) tile)
        {
            for (int i = 0; i < tile.W; i++) y[tile.Y + i * yInner] = TR.Finish(acc[i], nRed);
        }

        if (!SplitBlocks(items, nBlocks, plan.OutputCount * nRed))
        {
            CpuParallel.For(items, Math.Max(1, MinWorkPerThread / (nRed * tileWidth)), (start, end) =>
            {
                A* acc = stackalloc A[TS.Tile];
                A* part = stackalloc A[TS.Tile];
                for (long item = start; item < end; item++)
                {
                    var tile = TileOf(item);
                    Fill(acc, tile.W, TR.Identity);
                    for (long b = 0; b < nBlocks; b++)
                    {
                        Fill(part, tile.W, TR.Identity);
                        AccumulateRows<T, A, TR, TS>(plan, x, tile.X, b * rowsPerBlock,
                            Math.Min(nRed, (b + 1) * rowsPerBlock), part, tile.W);
                        for (int i = 0; i < tile.W; i++) acc[i] = TR.Combine(acc[i], part[i]);
                    }
                    Write(acc, tile);
                }
            });
            return;
        }
        // Few tiles and many rows: blocks of rows run in parallel into partial tiles, folded in order afterwards.
        var partials = new A[items * nBlocks * tileWidth];
        fixed (A* parts = partials)
        {
            A* pp = parts;
            CpuParallel.For(items * nBlocks, Math.Max(1, MinWorkPerThread / (rowsPerBlock * tileWidth)),
                (start, end) =>
                {
                    for (long j = start; j < end; j++)
                    {
                        long item = j / nBlocks, b = j % nBlocks;
                        var tile = TileOf(item);
                        A* part = pp + j * tileWidth;
                        Fill(part, tile.W, TR.Identity);
                        AccumulateRows<T, A, TR, TS>(plan, x, tile.X, b * rowsPerBlock,
                            Math.Min(nRed, (b + 1) * rowsPerBlock), part, tile.W);
                    }
                });
            A* acc = stackalloc A[TS.Tile];
            for (long item = 0; item < items; item++)
            {
                var tile = TileOf(item);
                Fill(acc, tile.W, TR.Identity);
                for (long b = 0; b < nBlocks; b++)
                {
                    A* part = pp + (item * nBlocks + b) * tileWidth;
                    for (int i = 0; i < tile.W; i++) acc[i] = TR.Combine(acc[i], part[i]);
                }
                Write(acc, tile);
            }
        }
    }

    /// <summary>Accumulates reduced positions [start, end) into a tile of <paramref name="w"/> outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows<T, A, TR, TS>(ReducePlan plan, TS x, long xBase, long start, long end,
        A* acc, int w) where T : unmanaged where A : unmanaged where TR : IReducer<T, A> where TS : IReduceSource<T>
    {
        long origin = plan.Offset + xBase;
        int r = plan.ReducedSizes.Length;
        if (r == 0)
        {
            TR.AccumulateLine(acc, x.Line(origin, 1, w), w);
            return;
        }
        // The innermost reduced axis is walked directly, the outer ones by an odometer, as in ReduceRange.
        long length = plan.ReducedSizes[r - 1], stride = plan.ReducedX[r - 1];
        Span<long> coords = stackalloc long[r - 1];
        var lines = new Odometer(plan.ReducedSizes.AsSpan(0, r - 1), plan.ReducedX.AsSpan(0, r - 1), default,
            coords, start / length);
        long c = start % length, remaining = end - start;
        while (true)
        {
            long n = Math.Min(length - c, remaining);
            long first = origin + lines.X + c * stride;
            if (w >= 8)
            {
                for (long j = 0; j < n; j++) TR.AccumulateLine(acc, x.Line(first + j * stride, 1, w), w);
            }
            else
            {
                // Too narrow for a vector: a plain loop saves a call per row.
                for (long j = 0; j < n; j++)
                {
                    T* p = x.Line(first + j * stride, 1, w);
                    for (int i = 0; i < w; i++) acc[i] = TR.Combine(acc[i], TR.Map(p[i]));
                }
            }
            remaining -= n;
            if (remaining == 0) return;
            c = 0;
            lines.Next();
        }
    }

    private static void Fill<A>(A* p, int n, A value) where A : unmanaged => new Span<A>(p, n).Fill(value);
}
