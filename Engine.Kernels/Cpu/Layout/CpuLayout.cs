namespace Engine.Kernels.Cpu;

/// <summary>
/// Data-movement kernels: strided copy (which is also transpose, permute and broadcast), cast, concat and split,
/// slice, take, one-hot and pad. Every entry point validates its arguments and then runs a pointer-based core;
/// all of them are exact (no arithmetic), except the backward kernels, which sum in a fixed order so results do
/// not depend on the thread count.
/// </summary>
/// <remarks>
/// This file holds the strided copy that the other kernels reuse; the rest live in CpuLayout.*.cs by concern.
/// </remarks>
public static unsafe partial class CpuLayout
{
    /// <summary>
    /// Elements one thread copies at least before another thread is worth waking: 64 Ki elements is 256 KB of
    /// float32, tens of microseconds of copying, well above the few microseconds a hand-off costs.
    /// </summary>
    private const long ParallelGrain = 1 << 16;

    /// <summary>Tile edge of the blocked transpose: two 32x32 float64 tiles (16 KB) fit in L1.</summary>
    private const int TransposeTile = 32;

    /// <summary>
    /// Copies every element of <paramref name="srcLayout"/> to the same position of <paramref name="dstLayout"/>.
    /// Both layouts have the same shape; permuted source strides make this a transpose, a source stride of 0 a
    /// broadcast, an offset a view into a larger buffer. The destination must not write an element twice and
    /// the touched memory of source and destination must not overlap.
    /// </summary>
    public static void Copy<T>(ReadOnlySpan<T> src, TensorLayout srcLayout, Span<T> dst, TensorLayout dstLayout)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(srcLayout);
        ArgumentNullException.ThrowIfNull(dstLayout);
        if (srcLayout.Shape != dstLayout.Shape)
            throw new ArgumentException(
                $"copy: source shape {srcLayout.Shape} and destination shape {dstLayout.Shape} differ; both " +
                "layouts must describe the same shape (to broadcast, give the source a stride of 0 on that axis).");
        srcLayout.CheckFits(src.Length, "copy");
        dstLayout.CheckFits(dst.Length, "copy");
        CheckWritesOnce(dstLayout, "copy");
        if (dstLayout.Shape.Size == 0) return;

        fixed (T* ps = src)
        fixed (T* pd = dst)
        {
            T* s = ps + srcLayout.Offset;
            T* d = pd + dstLayout.Offset;
            T* sEnd = ps + srcLayout.Extent;
            T* dEnd = pd + dstLayout.Extent;
            if (s < dEnd && d < sEnd)
            {
                // Copying a view onto itself is the one overlap that is harmless: nothing changes.
                if (s == d && srcLayout.Strides.AsSpan().SequenceEqual(dstLayout.Strides)) return;
                throw new ArgumentException(
                    "copy: the source and destination memory overlap, so the result would depend on the order " +
                    "of the writes; copy through a temporary buffer.");
            }
            CopyCore(s, srcLayout.Strides, d, dstLayout.Strides, srcLayout.Shape.Dims);
        }
    }

    /// <summary>
    /// Throws unless each element of <paramref name="layout"/> has its own place in memory: sorted by stride,
    /// each axis must step past everything the smaller axes span. (Conservative: exotic interleavings that do not
    /// overlap are refused too; no view produces them.)
    /// </summary>
    private static void CheckWritesOnce(TensorLayout layout, string op)
    {
        if (layout.Shape.Size == 0) return;
        var axes = new List<int>();
        for (int i = 0; i < layout.Rank; i++)
        {
            if (layout.Shape[i] > 1) axes.Add(i);
        }
        axes.Sort((a, b) => layout.Strides[a].CompareTo(layout.Strides[b]));
        long span = 1;
        foreach (int a in axes)
        {
            if (layout.Strides[a] < span)
                throw new ArgumentException(
                    $"{op}: the destination layout {layout} writes some elements more than once (axis {a}, " +
                    $"stride {layout.Strides[a]}); write into a layout whose elements are distinct, such as a " +
                    "contiguous one.");
            span = layout.Strides[a] * (layout.Shape[a] - 1) + span;
        }
    }

    /// <summary>
    /// The strided copy every layout kernel ends in. Strides may be negative (slices with negative steps);
    /// <paramref name="src"/> and <paramref name="dst"/> point at element [0, ..., 0]. The caller has validated
    /// that every element is in bounds and that destination elements are distinct.
    /// </summary>
    internal static void CopyCore<T>(T* src, ReadOnlySpan<long> srcStrides, T* dst, ReadOnlySpan<long> dstStrides,
        ReadOnlySpan<int> dims) where T : unmanaged
    {
        // Drop size-1 axes: they move nothing.
        int rank = dims.Length;
        var n = new long[rank];
        var ss = new long[rank];
        var ds = new long[rank];
        int r = 0;
        for (int i = 0; i < rank; i++)
        {
            if (dims[i] == 0) return;
            if (dims[i] == 1) continue;
            n[r] = dims[i];
            ss[r] = srcStrides[i];
            ds[r] = dstStrides[i];
            r++;
        }
        if (r == 0)
        {
            *dst = *src;
            return;
        }

        // Order the axes by destination stride, largest first, so writes move forward through memory. Insertion
        // sort: ranks are small and it is stable.
        for (int i = 1; i < r; i++)
        {
            for (int j = i; j > 0 && Math.Abs(ds[j - 1]) < Math.Abs(ds[j]); j--)
            {
                (n[j - 1], n[j]) = (n[j], n[j - 1]);
                (ss[j - 1], ss[j]) = (ss[j], ss[j - 1]);
                (ds[j - 1], ds[j]) = (ds[j], ds[j - 1]);
            }
        }

        // Merge neighbours that are one axis in both layouts (a contiguous copy becomes a single row).
        int m = 0;
        for (int i = 1; i < r; i++)
        {
            if (ss[m] == ss[i] * n[i] && ds[m] == ds[i] * n[i])
            {
                n[m] *= n[i];
                ss[m] = ss[i];
                ds[m] = ds[i];
            }
            else
            {
                m++;
                n[m] = n[i];
                ss[m] = ss[i];
                ds[m] = ds[i];
            }
        }
        r = m + 1;

        int inner = r - 1;
        if (ds[inner] == 1 && ss[inner] != 1 && ss[inner] != 0)
        {
            // The destination runs along the last axis but the source does not. If the source runs along
            // another axis, swap the two in cache-sized tiles.
            for (int k = inner - 1; k >= 0; k--)
            {
                if (ss[k] != 1) continue;
                MoveAxis(n, ss, ds, k, inner - 1);
                CopyTransposed(src, ss, dst, ds, n, r);
                return;
            }
        }
        CopyRows(src, ss, dst, ds, n, r);
    }

    private static void MoveAxis(long[] n, long[] ss, long[] ds, int from, int to)
    {
        for (int j = from; j < to; j++)
        {
            (n[j], n[j + 1]) = (n[j + 1], n[j]);
            (ss[j], ss[j + 1]) = (ss[j + 1], ss[j]);
            (ds[j], ds[j + 1]) = (ds[j + 1], ds[j]);
        }
    }

    /// <summary>
    /// Copies row by row along the last axis: a memcpy when both strides are 1, a fill when the source stride is
    /// 0 (broadcast), a strided loop otherwise. Long rows are cut into segments so one big row still uses every
    /// thread.
    /// </summary>
    private static void CopyRows<T>(T* src, long[] ss, T* dst, long[] ds, long[] n, int r) where T : unmanaged
    {
        int inner = r - 1;
        long rowLength = n[inner];
        long rows = 1;
        for (int i = 0; i < inner; i++) rows *= n[i];
        long segment = Math.Min(rowLength, ParallelGrain);
        long segments = (rowLength + segment - 1) / segment;
        long sInner = ss[inner], dInner = ds[inner];
        nint srcAddress = (nint)src, dstAddress = (nint)dst;

        CpuParallel.For(rows * segments, Math.Max(1, ParallelGrain / segment), (start, end) =>
        {
            var position = new Odometer(n, ss, ds, inner, start / segments);
            for (long u = start; u < end;)
            {
                long from = u % segments * segment;
                long length = Math.Min(segment, rowLength - from);
                T* s = (T*)srcAddress + position.Source + from * sInner;
                T* d = (T*)dstAddress + position.Destination + from * dInner;
                if (sInner == 1 && dInner == 1)
                    new ReadOnlySpan<T>(s, checked((int)length)).CopyTo(new Span<T>(d, (int)length));
                else if (sInner == 0 && dInner == 1)
                    new Span<T>(d, checked((int)length)).Fill(*s);
                else
                {
                    for (long i = 0; i < length; i++) d[i * dInner] = s[i * sInner];
                }
                u++;
                if (u % segments == 0) position.Next();
            }
        });
    }

    /// <summary>
    /// The last two axes swapped: the source runs along axis r-2, the destination along axis r-1. Copies in
    /// TransposeTile x TransposeTile tiles so both the strided reads and the writes stay in L1; 4-byte elements go
    /// through 4 x 4 register transposes (SSE, or ARM64's AdvSimd).
    /// </summary>
    private static void CopyTransposed<T>(T* src, long[] ss, T* dst, long[] ds, long[] n, int r) where T : unmanaged
    {
        int outerRank = r - 2;
        long a = n[r - 2], b = n[r - 1];
        long dStrideA = ds[r - 2], sStrideB = ss[r - 1];
        long tilesA = (a + TransposeTile - 1) / TransposeTile;
        long outer = 1;
        for (int i = 0; i < outerRank; i++) outer *= n[i];
        nint srcAddress = (nint)src, dstAddress = (nint)dst;

        CpuParallel.For(outer * tilesA, Math.Max(1, ParallelGrain / (TransposeTile * b)), (start, end) =>
        {
            var position = new Odometer(n, ss, ds, outerRank, start / tilesA);
            for (long u = start; u < end;)
            {
                long a0 = u % tilesA * TransposeTile;
                long a1 = Math.Min(a, a0 + TransposeTile);
                T* s = (T*)srcAddress + position.Source;
                T* d = (T*)dstAddress + position.Destination;
                for (long b0 = 0; b0 < b; b0 += TransposeTile)
                {
                    long b1 = Math.Min(b, b0 + TransposeTile);
                    long i = a0;
                    if (sizeof(T) == 4 && Lanes128.IsSupported)
                    {
                        // 4 x 4 blocks through registers (lane moves only, so any 4-byte type keeps its bits).
                        for (; i + 4 <= a1; i += 4)
                        {
                            CopyTransposed4Rows((float*)(s + i), sStrideB, (float*)(d + i * dStrideA), dStrideA,
                                b0, b1);
                        }
                    }
                    for (; i < a1; i++)
                    {
                        T* row = d + i * dStrideA;
                        T* column = s + i;
                        for (long j = b0; j < b1; j++) row[j] = column[j * sStrideB];
                    }
                }
                u++;
                if (u % tilesA == 0) position.Next();
            }
        });
    }

    /// <summary>
    /// Four destination rows of a transposed tile, columns b0 to b1: dst[q * dStride + j] = src[j * sStride + q] for
    /// q &lt; 4, in 4 x 4 register transposes, then column by column for the last few.
    /// </summary>
    private static void CopyTransposed4Rows(float* src, long sStride, float* dst, long dStride, long b0, long b1)
    {
        long j = b0;
        for (; j + 4 <= b1; j += 4) Lanes128.Transpose4x4(src + j * sStride, (nint)sStride, dst + j, (nint)dStride);
        for (; j < b1; j++)
        {
            for (int q = 0; q < 4; q++) dst[q * dStride + j] = src[j * sStride + q];
        }
    }

    /// <summary>
    /// Walks the first <c>rank</c> axes in row-major order, tracking the source and destination element offsets.
    /// </summary>
    private sealed class Odometer
    {
        private readonly long[] dims;
        private readonly long[] sourceStrides;
        private readonly long[] destinationStrides;
        private readonly long[] index;

        public Odometer(long[] dims, long[] sourceStrides, long[] destinationStrides, int rank, long linear)
        {
            this.dims = dims;
            this.sourceStrides = sourceStrides;
            this.destinationStrides = destinationStrides;
            index = new long[rank];
            for (int i = rank - 1; i >= 0; i--)
            {
                index[i] = linear % dims[i];
                linear /= dims[i];
                Source += index[i] * sourceStrides[i];
                Destination += index[i] * destinationStrides[i];
            }
        }

        public long Source { get; private set; }

        public long Destination { get; private set; }

        public void Next()
        {
            for (int i = index.Length - 1; i >= 0; i--)
            {
                index[i]++;
                Source += sourceStrides[i];
                Destination += destinationStrides[i];
                if (index[i] < dims[i]) return;
                Source -= sourceStrides[i] * dims[i];
                Destination -= destinationStrides[i] * dims[i];
                index[i] = 0;
            }
        }
    }
}
