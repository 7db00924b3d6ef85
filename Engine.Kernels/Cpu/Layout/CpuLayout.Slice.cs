namespace Engine.Kernels.Cpu;

public static unsafe partial class CpuLayout
{
    /// <summary>
    /// The shape of <c>slice(begin, end, step)</c> (MXNet's slice operator). The tuples cover the leading axes
    /// (the rest are taken whole); a null entry means the default: begin 0 and end past the last element for a
    /// positive step, begin at the last element and end before the first for a negative step. Negative begins
    /// and ends count from the end of the axis. Begin must name an element of the axis; end may be one past it in
    /// the direction of the step; end equal to begin gives an empty axis.
    /// </summary>
    public static Shape SliceShape(Shape shape, ReadOnlySpan<int?> begin, ReadOnlySpan<int?> end,
        ReadOnlySpan<int?> step)
    {
        ResolveSlice(shape, begin, end, step, out _, out _, out int[] dims);
        return new Shape(dims);
    }

    /// <summary>
    /// Copies <c>src[begin:end:step]</c> of a contiguous array into the contiguous <paramref name="dst"/>, whose
    /// length is <see cref="SliceShape"/>'s size. <paramref name="step"/> may be empty (all steps 1).
    /// </summary>
    public static void Slice<T>(ReadOnlySpan<T> src, Shape srcShape, ReadOnlySpan<int?> begin,
        ReadOnlySpan<int?> end, ReadOnlySpan<int?> step, Span<T> dst) where T : unmanaged
    {
        ResolveSlice(srcShape, begin, end, step, out long[] first, out long[] steps, out int[] dims);
        var outShape = new Shape(dims);
        CheckLength("slice", "input", src.Length, srcShape);
        CheckLength("slice", "output", dst.Length, outShape);
        if (outShape.Size == 0) return;

        long[] strides = srcShape.ContiguousStrides();
        long offset = 0;
        var srcStrides = new long[strides.Length];
        for (int i = 0; i < strides.Length; i++)
        {
            offset += first[i] * strides[i];
            srcStrides[i] = steps[i] * strides[i];
        }
        fixed (T* ps = src)
        fixed (T* pd = dst)
        {
            CopyCore(ps + offset, srcStrides, pd, outShape.ContiguousStrides(), dims);
        }
    }

    /// <summary>Resolves the slice per axis to its first index, step and length, validating as documented.</summary>
    private static void ResolveSlice(Shape shape, ReadOnlySpan<int?> begin, ReadOnlySpan<int?> end,
        ReadOnlySpan<int?> step, out long[] first, out long[] steps, out int[] dims)
    {
        int rank = shape.Rank;
        if (begin.Length != end.Length)
            throw new ArgumentException(
                $"slice: begin has {begin.Length} entries but end has {end.Length}; give one of each per sliced axis.");
        if (step.Length != 0 && step.Length != begin.Length)
            throw new ArgumentException(
                $"slice: step has {step.Length} entries but begin has {begin.Length}; give one step per sliced " +
                "axis, or none for steps of 1.");
        if (begin.Length > rank)
            throw new ArgumentException(
                $"slice: {begin.Length} axes sliced but the input {shape} has rank {rank}; slice at most {rank}.");

        first = new long[rank];
        steps = new long[rank];
        dims = shape.ToArray();
        for (int i = 0; i < rank; i++) steps[i] = 1;
        for (int i = 0; i < begin.Length; i++)
        {
            long len = shape[i];
            long s = step.Length == 0 ? 1 : step[i] ?? 1;
            if (s == 0)
                throw new ArgumentException($"slice: step on axis {i} is 0; use a non-zero step.");

            long b = begin[i] ?? (s > 0 ? 0 : len - 1);
            if (b < 0) b += len;
            bool beginOk = len == 0 ? b == 0 || begin[i] is null : b >= 0 && b < len;
            if (!beginOk)
                throw new ArgumentOutOfRangeException(nameof(begin),
                    $"slice: begin {begin[i]} is out of range for axis {i} of size {len}; use a begin in " +
                    $"[{-len}, {len - 1}].");

            long e;
            if (end[i] is int given)
            {
                e = given < 0 ? given + len : given;
                bool endOk = s > 0 ? e >= 0 && e <= len : e >= -1 && e < Math.Max(len, 1);
                if (!endOk)
                    throw new ArgumentOutOfRangeException(nameof(end),
                        $"slice: end {given} is out of range for axis {i} of size {len} with step {s}; use an " +
                        (s > 0 ? $"end in [{-len}, {len}]." : $"end in [{-len - 1}, {len - 1}]."));
            }
            else
            {
                e = s > 0 ? len : -1;
            }
            if (len == 0)
            {
                first[i] = 0;
                steps[i] = s;
                dims[i] = 0;
                continue;
            }
            if (s > 0 ? e < b : e > b)
                throw new ArgumentException(
                    $"slice: on axis {i} end {e} lies before begin {b} for step {s}, which selects nothing " +
                    "in that direction; swap them or change the sign of the step.");
            first[i] = b;
            steps[i] = s;
            dims[i] = (int)(s > 0 ? (e - b + s - 1) / s : (b - e - s - 1) / -s);
        }
    }
}
