using System.Numerics;

namespace Engine.Kernels.Cpu;

public static unsafe partial class CpuLayout
{
    /// <summary>
    /// The shape of <paramref name="shape"/> padded by <paramref name="padBefore"/>[i] and
    /// <paramref name="padAfter"/>[i] on each axis i, validated for <paramref name="mode"/>: Edge needs a
    /// non-empty axis wherever it pads, Reflect a padding smaller than the axis on each side.
    /// </summary>
    public static Shape PadShape(Shape shape, ReadOnlySpan<int> padBefore, ReadOnlySpan<int> padAfter, PadMode mode)
    {
        int rank = shape.Rank;
        if (padBefore.Length != rank || padAfter.Length != rank)
            throw new ArgumentException(
                $"pad: {padBefore.Length} pads before and {padAfter.Length} after given for shape {shape} of rank " +
                $"{rank}; give one of each per axis (0 for an axis left alone).");
        if (mode is not (PadMode.Constant or PadMode.Edge or PadMode.Reflect))
            throw new ArgumentOutOfRangeException(nameof(mode),
                $"pad: unknown mode {(int)mode}; use constant, edge or reflect.");
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int n = shape[i];
            foreach (int p in (ReadOnlySpan<int>)[padBefore[i], padAfter[i]])
            {
                if (p < 0)
                    throw new ArgumentOutOfRangeException(nameof(padBefore),
                        $"pad: padding {p} on axis {i} is negative; paddings must be non-negative.");
                if (p > 0 && mode == PadMode.Edge && n == 0)
                    throw new ArgumentException(
                        $"pad: edge padding {p} on axis {i} needs a non-empty axis, got size 0; use constant mode.");
                if (p > 0 && mode == PadMode.Reflect && p >= n)
                    throw new ArgumentException(
                        $"pad: reflect padding {p} on axis {i} needs size > {p}, got {n}; pad less or use edge mode.");
            }
            dims[i] = checked(n + padBefore[i] + padAfter[i]);
        }
        return new Shape(dims);
    }

    /// <summary>
    /// Pads a contiguous array into the contiguous <paramref name="dst"/> of <see cref="PadShape"/>'s size.
    /// <paramref name="value"/> fills the border in Constant mode and is ignored otherwise.
    /// </summary>
    public static void Pad<T>(ReadOnlySpan<T> src, Shape shape, ReadOnlySpan<int> padBefore,
        ReadOnlySpan<int> padAfter, PadMode mode, T value, Span<T> dst) where T : unmanaged
    {
        Shape outShape = PadShape(shape, padBefore, padAfter, mode);
        CheckLength("pad", "input", src.Length, shape);
        CheckLength("pad", "output", dst.Length, outShape);
        if (outShape.Size == 0) return;
        if (shape.Size == 0)
        {
            dst.Fill(value);
            return;
        }
        int rank = shape.Rank;
        if (rank == 0)
        {
            dst[0] = src[0];
            return;
        }

        int[][] maps = SourceMaps(shape, outShape, padBefore, mode);
        long[] strides = shape.ContiguousStrides();
        int last = rank - 1, n = shape[last], width = outShape[last], before = padBefore[last];
        long rows = outShape.SizeOf(0, last);
        fixed (T* ps = src)
        fixed (T* pd = dst)
        {
            nint srcAddress = (nint)ps, dstAddress = (nint)pd;
            CpuParallel.For(rows, Math.Max(1, ParallelGrain / width), (start, end) =>
            {
                for (long r = start; r < end; r++)
                {
                    var row = new Span<T>((T*)dstAddress + r * width, width);
                    long source = SourceRow(r, outShape, maps, strides);
                    if (source < 0)
                    {
                        row.Fill(value);
                        continue;
                    }
                    T* s = (T*)srcAddress + source;
                    new ReadOnlySpan<T>(s, n).CopyTo(row.Slice(before, n));
                    int[] map = maps[last];
                    for (int j = 0; j < before; j++) row[j] = map[j] < 0 ? value : s[map[j]];
                    for (int j = before + n; j < width; j++) row[j] = map[j] < 0 ? value : s[map[j]];
                }
            });
        }
    }

    /// <summary>
    /// The gradient of <see cref="Pad{T}"/>: dx[i] is the sum of dy over every output position that read input
    /// i (in Constant mode just the interior; in Edge and Reflect also the border copies of i). Overwrites
    /// <paramref name="dx"/>; sums in a fixed order, independent of the thread count.
    /// </summary>
    public static void PadBackward<T>(ReadOnlySpan<T> dy, Shape shape, ReadOnlySpan<int> padBefore,
        ReadOnlySpan<int> padAfter, PadMode mode, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shape outShape = PadShape(shape, padBefore, padAfter, mode);
        CheckLength("pad backward", "output gradient", dy.Length, outShape);
        CheckLength("pad backward", "input gradient", dx.Length, shape);
        if (shape.Size == 0) return;
        long[] outStrides = outShape.ContiguousStrides();
        if (mode == PadMode.Constant)
        {
            // The interior of dy, copied out.
            long offset = 0;
            for (int i = 0; i < shape.Rank; i++) offset += padBefore[i] * outStrides[i];
            fixed (T* pdy = dy)
            fixed (T* pdx = dx)
            {
                CopyCore(pdy + offset, outStrides, pdx, shape.ContiguousStrides(), shape.Dims);
            }
            return;
        }
        PadBackwardGather(dy, shape, outShape, padBefore, mode, dx);
    }

    /// <summary>
    /// For each axis, the input index that output index j reads, or -1 for a constant border. Reflect mirrors
    /// about the edge element without repeating it: before the start j - before is negative and maps to its
    /// absolute value; past the end index k maps to 2 (n - 1) - k. One mirror suffices since pads are below n.
    /// </summary>
    private static int[][] SourceMaps(Shape shape, Shape outShape, ReadOnlySpan<int> padBefore, PadMode mode)
    {
        var maps = new int[shape.Rank][];
        for (int a = 0; a < shape.Rank; a++)
        {
            int n = shape[a];
            var map = new int[outShape[a]];
            for (int j = 0; j < map.Length; j++)
            {
                int k = j - padBefore[a];
                map[j] = k >= 0 && k < n ? k : mode switch
                {
                    PadMode.Edge => Math.Clamp(k, 0, n - 1),
                    PadMode.Reflect => k < 0 ? -k : 2 * (n - 1) - k,
                    _ => -1,
                };
            }
            maps[a] = map;
        }
        return maps;
    }

    /// <summary>The source offset of output row <paramref name="row"/> (all axes but the last), or -1.</summary>
    private static long SourceRow(long row, Shape outShape, int[][] maps, long[] strides)
    {
        long offset = 0;
        for (int a = outShape.Rank - 2; a >= 0; a--)
        {
            int j = (int)(row % outShape[a]);
            row /= outShape[a];
            int k = maps[a][j];
            if (k < 0) return -1;
            offset += k * strides[a];
        }
        return offset;
    }

    /// <summary>
    /// Edge and Reflect backward as a gather: per axis, the output indices that read each input index (at most
    /// three for Reflect, the whole border for Edge); dx[i] sums dy over their cartesian product, in row-major
    /// order, so each element is summed by one thread in a fixed order.
    /// </summary>
    private static void PadBackwardGather<T>(ReadOnlySpan<T> dy, Shape shape, Shape outShape,
        ReadOnlySpan<int> padBefore, PadMode mode, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rank = shape.Rank;
        if (rank == 0)
        {
            dx[0] = dy[0];
            return;
        }
        int[][] maps = SourceMaps(shape, outShape, padBefore, mode);
        // Inverse maps in compressed form: readers of input index i along axis a are list[a][start[a][i] ..
        // start[a][i + 1]), in increasing order.
        var start = new int[rank][];
        var list = new int[rank][];
        for (int a = 0; a < rank; a++)
        {
            int n = shape[a];
            start[a] = new int[n + 1];
            foreach (int k in maps[a]) start[a][k + 1]++;
            for (int i = 0; i < n; i++) start[a][i + 1] += start[a][i];
            list[a] = new int[maps[a].Length];
            var fill = start[a][..n];
            for (int j = 0; j < maps[a].Length; j++) list[a][fill[maps[a][j]]++] = j;
        }

        long[] outStrides = outShape.ContiguousStrides();
        int last = rank - 1, n0 = shape[last];
        long rows = shape.SizeOf(0, last);
        fixed (T* pdy = dy)
        fixed (T* pdx = dx)
        {
            nint dyAddress = (nint)pdy, dxAddress = (nint)pdx;
            CpuParallel.For(rows, Math.Max(1, ParallelGrain / (n0 * 4L)), (first, end) =>
            {
                var index = new int[last];
                var cursor = new int[last];
                for (long r = first; r < end; r++)
                {
                    long rest = r;
                    for (int a = last - 1; a >= 0; a--)
                    {
                        index[a] = (int)(rest % shape[a]);
                        rest /= shape[a];
                        cursor[a] = start[a][index[a]];
                    }
                    var row = new Span<T>((T*)dxAddress + r * n0, n0);
                    row.Clear();
                    // Odometer over the readers of this row on the leading axes.
                    while (true)
                    {
                        long offset = 0;
                        for (int a = 0; a < last; a++) offset += list[a][cursor[a]] * outStrides[a];
                        T* dyRow = (T*)dyAddress + offset;
                        for (int i = 0; i < n0; i++)
                        {
                            T sum = row[i];
                            for (int q = start[last][i]; q < start[last][i + 1]; q++) sum += dyRow[list[last][q]];
                            row[i] = sum;
                        }
                        int b = last - 1;
                        for (; b >= 0; b--)
                        {
                            if (++cursor[b] < start[b][index[b] + 1]) break;
                            cursor[b] = start[b][index[b]];
                        }
                        if (b < 0) break;
                    }
                }
            });
        }
    }
}
