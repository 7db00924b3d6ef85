namespace Engine.Kernels.Cpu;

/// <summary>
/// A reduction in canonical form. Size-1 axes are dropped; the kept axes (which index the contiguous output) and
/// the reduced axes become two separate lists, each ordered by decreasing input stride (broadcast stride 0 first)
/// and with neighbours merged where they walk memory as one axis. A contiguous (outer, reduce, inner) problem of
/// any rank thus becomes at most one kept axis, one reduced axis and one kept axis, whatever axes the caller named,
/// and a transposed or fully reduced input collapses the same way.
/// </summary>
internal sealed class ReducePlan
{
    private ReducePlan(long offset, long outputCount, long reduceCount, List<(long Size, long X, long Y)> kept,
        List<(long Size, long X, long Y)> reduced)
    {
        Offset = offset;
        OutputCount = outputCount;
        ReduceCount = reduceCount;
        KeptSizes = kept.Select(a => a.Size).ToArray();
        KeptX = kept.Select(a => a.X).ToArray();
        KeptY = kept.Select(a => a.Y).ToArray();
        ReducedSizes = reduced.Select(a => a.Size).ToArray();
        ReducedX = reduced.Select(a => a.X).ToArray();
    }

    /// <summary>Input element of index [0, ..., 0].</summary>
    public long Offset { get; }

    /// <summary>Number of results (elements of the output).</summary>
    public long OutputCount { get; }

    /// <summary>Number of input elements folded into each result (the divisor of a mean).</summary>
    public long ReduceCount { get; }

    public long[] KeptSizes { get; }

    /// <summary>Input strides of the kept axes.</summary>
    public long[] KeptX { get; }

    /// <summary>Output strides of the kept axes.</summary>
    public long[] KeptY { get; }

    public long[] ReducedSizes { get; }

    /// <summary>Input strides of the reduced axes.</summary>
    public long[] ReducedX { get; }

    /// <summary>The plan for reducing <paramref name="layout"/> over the axes flagged in reduce.</summary>
    public static ReducePlan Create(TensorLayout layout, ReadOnlySpan<bool> reduce)
    {
        int rank = layout.Rank;
        long outputCount = 1, reduceCount = 1;
        for (int i = 0; i < rank; i++)
        {
            if (reduce[i]) reduceCount *= layout.Shape[i];
            else outputCount *= layout.Shape[i];
        }
        var kept = new List<(long Size, long X, long Y)>();
        var reduced = new List<(long Size, long X, long Y)>();
        if (outputCount == 0 || reduceCount == 0)
            return new ReducePlan(layout.Offset, outputCount, reduceCount, kept, reduced);

        long yStride = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int size = layout.Shape[i];
            if (reduce[i])
            {
                if (size > 1) reduced.Add((size, layout.Strides[i], 0));
                continue;
            }
            if (size > 1) kept.Add((size, layout.Strides[i], yStride));
            yStride *= size;
        }
        kept.Reverse();
        reduced.Reverse();
        return new ReducePlan(layout.Offset, outputCount, reduceCount, SortAndMerge(kept), SortAndMerge(reduced));
    }

    /// <summary>
    /// Orders axes outermost first by decreasing input stride (stable, so equal strides keep the caller's order;
    /// stride 0 counts as the largest, so a broadcast axis never becomes the inner loop) and merges an axis into
    /// its outer neighbour when both strides line up: x[i] == x[i+1] * size[i+1], and the same for y.
    /// </summary>
    private static List<(long Size, long X, long Y)> SortAndMerge(List<(long Size, long X, long Y)> axes)
    {
        static long Key(long stride) => stride == 0 ? long.MaxValue : stride;
        var sorted = axes.Select((a, i) => (a, i)).OrderByDescending(t => Key(t.a.X)).ThenBy(t => t.i)
            .Select(t => t.a).ToList();
        var merged = new List<(long Size, long X, long Y)>();
        foreach (var axis in sorted)
        {
            if (merged.Count > 0)
            {
                var outer = merged[^1];
                if (outer.X == axis.X * axis.Size && outer.Y == axis.Y * axis.Size)
                {
                    merged[^1] = (outer.Size * axis.Size, axis.X, axis.Y);
                    continue;
                }
            }
            merged.Add(axis);
        }
        return merged;
    }

    public override string ToString() =>
        $"kept [{string.Join(", ", KeptSizes.Select((s, i) => $"{s}:{KeptX[i]}/{KeptY[i]}"))}] " +
        $"reduced [{string.Join(", ", ReducedSizes.Select((s, i) => $"{s}:{ReducedX[i]}"))}] offset {Offset}";
}
