using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Argmax and argmin along one axis, from a <see cref="ReducePlan"/> with at most one reduced axis. The first
/// occurrence wins ties, and a NaN beats every number (the first NaN wins), as in NumPy. Exact, so any order of
/// work gives the same answer.
/// </summary>
internal static unsafe class ArgReduceDriver
{
    /// <summary>Contiguous lines at least this long find their extreme with the SIMD max/min kernel first.</summary>
    private const long MinSimdLine = 32;

    /// <summary>Outputs per tile of the vertical path (best values and indices stay in L1).</summary>
    private const int Tile = 256;

    public static void Run<T>(bool isMax, ReducePlan plan, T* x, long* indices) where T : unmanaged, INumber<T>
    {
        if (plan.OutputCount == 0) return;
        if (plan.ReducedSizes.Length == 0)
        {
            new Span<long>(indices, checked((int)plan.OutputCount)).Clear();
            return;
        }
        long length = plan.ReducedSizes[0], stride = plan.ReducedX[0];
        int k = plan.KeptSizes.Length;
        if (k > 0 && plan.KeptX[k - 1] == 1)
            RunVertical(isMax, plan, x, indices, length, stride);
        else
            RunPerOutput(isMax, plan, x, indices, length, stride);
    }

    private static void RunPerOutput<T>(bool isMax, ReducePlan plan, T* x, long* indices, long length, long stride)
        where T : unmanaged, INumber<T>
    {
        CpuParallel.For(plan.OutputCount, Math.Max(1, ReduceDriver.MinWorkPerThread / length), (start, end) =>
        {
            Span<long> coords = stackalloc long[plan.KeptSizes.Length];
            var kept = new Odometer(plan.KeptSizes, plan.KeptX, plan.KeptY, coords, start);
            for (long o = start; o < end; o++, kept.Next())
            {
                T* p = x + plan.Offset + kept.X;
                indices[kept.Y] = stride == 1 && length >= MinSimdLine
                    ? ContiguousLine(isMax, p, length)
                    : StridedLine(isMax, p, stride, length);
            }
        });
    }

    /// <summary>
    /// Two passes: the SIMD kernel finds the extreme (NaN if any), then a scan finds where it first is.
    /// </summary>
    private static long ContiguousLine<T>(bool isMax, T* p, long length) where T : unmanaged, INumber<T>
    {
        T extreme = isMax
            ? SameTypeReducer<T, MaxOperator<T>, PlainFinisher<T, T>>.ReduceLine(p, (nint)length)
            : SameTypeReducer<T, MinOperator<T>, PlainFinisher<T, T>>.ReduceLine(p, (nint)length);
        if (T.IsNaN(extreme))
        {
            for (long i = 0; i < length; i++)
            {
                if (T.IsNaN(p[i])) return i;
            }
        }
        for (long i = 0; i < length; i++)
        {
            if (p[i] == extreme) return i;
        }
        return 0; // unreachable: the extreme is one of the elements
    }

    private static long StridedLine<T>(bool isMax, T* p, long stride, long length) where T : unmanaged, INumber<T>
    {
        T best = p[0];
        long at = 0;
        for (long i = 1; i < length && !T.IsNaN(best); i++)
        {
            T v = p[i * stride];
            if (T.IsNaN(v) || (isMax ? v > best : v < best))
            {
                best = v;
                at = i;
            }
        }
        return at;
    }

    /// <summary>The innermost kept axis is contiguous: tiles of outputs scan the reduced axis row by row.</summary>
    private static void RunVertical<T>(bool isMax, ReducePlan plan, T* x, long* indices, long length, long stride)
        where T : unmanaged, INumber<T>
    {
        int k = plan.KeptSizes.Length;
        long width = plan.KeptSizes[k - 1], yInner = plan.KeptY[k - 1];
        var outerSizes = plan.KeptSizes.AsSpan(0, k - 1).ToArray();
        var outerX = plan.KeptX.AsSpan(0, k - 1).ToArray();
        var outerY = plan.KeptY.AsSpan(0, k - 1).ToArray();
        long nTiles = (width + Tile - 1) / Tile, items = plan.OutputCount / width * nTiles;
        long grain = Math.Max(1, ReduceDriver.MinWorkPerThread / (length * Math.Min(width, Tile)));
        CpuParallel.For(items, grain, (start, end) =>
        {
            T* best = stackalloc T[Tile];
            long* at = stackalloc long[Tile];
            Span<long> coords = stackalloc long[outerSizes.Length];
            for (long item = start; item < end; item++)
            {
                long first = item % nTiles * Tile;
                var outer = new Odometer(outerSizes, outerX, outerY, coords, item / nTiles);
                int w = (int)Math.Min(Tile, width - first);
                T* origin = x + plan.Offset + outer.X + first;
                for (int i = 0; i < w; i++)
                {
                    best[i] = origin[i];
                    at[i] = 0;
                }
                for (long r = 1; r < length; r++)
                {
                    T* row = origin + r * stride;
                    for (int i = 0; i < w; i++)
                    {
                        T v = row[i];
                        if (!T.IsNaN(best[i]) && (T.IsNaN(v) || (isMax ? v > best[i] : v < best[i])))
                        {
                            best[i] = v;
                            at[i] = r;
                        }
                    }
                }
                long yBase = outer.Y + first * yInner;
                for (int i = 0; i < w; i++) indices[yBase + i * yInner] = at[i];
            }
        });
    }
}
