using System.Numerics;

namespace Engine.Kernels.Cpu;

public static unsafe partial class CpuLayout
{
    /// <summary>
    /// The shape of <c>take(data, indices, axis)</c>: data's axes before <paramref name="axis"/>, then the
    /// indices' axes, then data's axes after it. (Embedding is take on axis 0.)
    /// </summary>
    public static Shape TakeShape(Shape dataShape, Shape indicesShape, int axis)
    {
        int a = dataShape.NormalizeAxis(axis, "take");
        var dims = new List<int>();
        dims.AddRange(dataShape.Dims[..a]);
        dims.AddRange(indicesShape.Dims);
        dims.AddRange(dataShape.Dims[(a + 1)..]);
        return new Shape(dims.ToArray());
    }

    /// <summary>
    /// Gathers the entries <paramref name="indices"/> of <paramref name="axis"/>: for data of shape
    /// (outer, size, inner), dst[o, j, i] = data[o, index(j), i], with out-of-range indices handled by
    /// <paramref name="mode"/>. <paramref name="dst"/> has outer * indices.Length * inner elements (the layout
    /// of <see cref="TakeShape"/>). MXNet passes indices as floats; convert them to long first.
    /// </summary>
    public static void Take<T>(ReadOnlySpan<T> data, Shape dataShape, ReadOnlySpan<long> indices, int axis,
        TakeMode mode, Span<T> dst) where T : unmanaged
    {
        int a = dataShape.NormalizeAxis(axis, "take");
        CheckLength("take", "data", data.Length, dataShape);
        long outer = dataShape.SizeOf(0, a), inner = dataShape.SizeOf(a + 1, dataShape.Rank);
        CheckTakeOutput("take", "output", dst.Length, outer, indices.Length, inner);
        long[] rows = ResolveIndices("take", indices, dataShape[a], a, mode);
        if (dst.Length == 0) return;

        fixed (T* pData = data)
        fixed (T* pDst = dst)
        {
            nint dataAddress = (nint)pData, dstAddress = (nint)pDst;
            long n = dataShape[a], count = rows.Length;
            int length = checked((int)inner);
            CpuParallel.For(outer * count, Math.Max(1, ParallelGrain / inner), (start, end) =>
            {
                for (long u = start; u < end; u++)
                {
                    long o = u / count, j = u % count;
                    var from = new ReadOnlySpan<T>((T*)dataAddress + (o * n + rows[j]) * inner, length);
                    from.CopyTo(new Span<T>((T*)dstAddress + u * inner, length));
                }
            });
        }
    }

    /// <summary>
    /// The gradient of <see cref="Take{T}"/> with respect to data: a scatter-add, d(data)[o, index(j), i] +=
    /// dy[o, j, i]. Repeated indices accumulate, in index order, so the result does not depend on the thread
    /// count. Overwrites <paramref name="dData"/> unless <paramref name="accumulate"/>, which adds to it.
    /// </summary>
    public static void TakeBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<long> indices, Shape dataShape, int axis,
        TakeMode mode, Span<T> dData, bool accumulate = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int a = dataShape.NormalizeAxis(axis, "take backward");
        CheckLength("take backward", "data gradient", dData.Length, dataShape);
        long outer = dataShape.SizeOf(0, a), inner = dataShape.SizeOf(a + 1, dataShape.Rank);
        CheckTakeOutput("take backward", "output gradient", dy.Length, outer, indices.Length, inner);
        long[] rows = ResolveIndices("take backward", indices, dataShape[a], a, mode);
        if (!accumulate) dData.Clear();
        if (dy.Length == 0) return;

        fixed (T* pDy = dy)
        fixed (T* pDx = dData)
        {
            nint dyAddress = (nint)pDy, dxAddress = (nint)pDx;
            long n = dataShape[a], count = rows.Length;
            // Work splits over (outer, column chunk): each unit owns its columns of d(data) and walks every index
            // in order, so no two threads touch one element.
            long chunk = Math.Min(inner, 1024);
            long chunks = (inner + chunk - 1) / chunk;
            long grain = Math.Max(1, ParallelGrain / Math.Max(1, chunk * count));
            CpuParallel.For(outer * chunks, grain, (start, end) =>
            {
                for (long u = start; u < end; u++)
                {
                    long o = u / chunks, c0 = u % chunks * chunk;
                    int length = (int)Math.Min(chunk, inner - c0);
                    T* dyBase = (T*)dyAddress + o * count * inner + c0;
                    T* dxBase = (T*)dxAddress + o * n * inner + c0;
                    for (long j = 0; j < count; j++)
                        AddInto(new ReadOnlySpan<T>(dyBase + j * inner, length),
                            new Span<T>(dxBase + rows[j] * inner, length));
                }
            });
        }
    }

    /// <summary>
    /// One-hot encoding: dst[j, k] = on when indices[j] == k, else off; an index outside [0, depth) gives a row
    /// of off, as in MXNet. <paramref name="dst"/> has indices.Length * depth elements.
    /// </summary>
    public static void OneHot<T>(ReadOnlySpan<long> indices, int depth, T onValue, T offValue, Span<T> dst)
        where T : unmanaged
    {
        if (depth < 0)
            throw new ArgumentOutOfRangeException(nameof(depth),
                $"one_hot: depth {depth} is negative; use a depth of at least 1.");
        if (dst.Length != (long)indices.Length * depth)
            throw new ArgumentException(
                $"one_hot: output has {dst.Length} elements but {indices.Length} indices with depth {depth} need " +
                $"{(long)indices.Length * depth}; pass an output of shape indices.shape + ({depth},).");
        if (dst.Length == 0) return;
        fixed (long* pIndices = indices)
        fixed (T* pDst = dst)
        {
            nint indexAddress = (nint)pIndices, dstAddress = (nint)pDst;
            CpuParallel.For(indices.Length, Math.Max(1, ParallelGrain / depth), (start, end) =>
            {
                var row = new Span<T>((T*)dstAddress + start * depth, (int)((end - start) * depth));
                row.Fill(offValue);
                for (long j = start; j < end; j++)
                {
                    long k = ((long*)indexAddress)[j];
                    if (k >= 0 && k < depth) row[(int)((j - start) * depth + k)] = onValue;
                }
            });
        }
    }

    private static void CheckTakeOutput(string op, string name, int length, long outer, int count, long inner)
    {
        if (length != outer * count * inner)
            throw new ArgumentException(
                $"{op}: {name} has {length} elements but {count} indices need {outer * count * inner} " +
                $"({outer} x {count} x {inner}); pass a buffer of TakeShape's size.");
    }

    /// <summary>Maps each index to a row of the axis by <paramref name="mode"/>, validating all first.</summary>
    private static long[] ResolveIndices(string op, ReadOnlySpan<long> indices, long size, int axis, TakeMode mode)
    {
        if (mode is not (TakeMode.Raise or TakeMode.Clip or TakeMode.Wrap))
            throw new ArgumentOutOfRangeException(nameof(mode),
                $"{op}: unknown mode {(int)mode}; use raise, clip or wrap.");
        var rows = new long[indices.Length];
        if (indices.Length == 0) return rows;
        if (size == 0)
            throw new ArgumentException(
                $"{op}: cannot take {indices.Length} indices from axis {axis} of size 0; the axis is empty.");
        for (int j = 0; j < indices.Length; j++)
        {
            long k = indices[j];
            switch (mode)
            {
                case TakeMode.Raise:
                    if (k < -size || k >= size)
                        throw new ArgumentOutOfRangeException(nameof(indices),
                            $"{op}: index {k} at position {j} is out of range for axis {axis} of size {size} " +
                            $"(mode raise); use indices in [{-size}, {size - 1}], or mode clip or wrap.");
                    rows[j] = k < 0 ? k + size : k;
                    break;
                case TakeMode.Clip:
                    rows[j] = Math.Clamp(k, 0, size - 1);
                    break;
                default:
                    rows[j] = (k % size + size) % size;
                    break;
            }
        }
        return rows;
    }

    /// <summary>y += x, vectorized.</summary>
    private static void AddInto<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var xv = System.Runtime.InteropServices.MemoryMarshal.Cast<T, Vector<T>>(x);
            var yv = System.Runtime.InteropServices.MemoryMarshal.Cast<T, Vector<T>>(y);
            for (int v = 0; v < xv.Length; v++) yv[v] += xv[v];
            i = xv.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++) y[i] += x[i];
    }
}
