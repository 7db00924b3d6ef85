using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

public static partial class GpuLayout
{
    /// <summary>
    /// dst[o, j, i] = data[o, index(j), i] for contiguous data (outer, size, inner) and int64 indices; out-of-range
    /// indices follow <paramref name="mode"/>. Raise mode reads the indices on the host to check them first (the
    /// one host synchronisation of this kernel), so that no kernel ever reads out of bounds.
    /// </summary>
    public static void Take<T>(GpuRuntime runtime, in TensorArg data, in TensorArg indices, int axis, TakeMode mode,
        in TensorArg output) where T : unmanaged
    {
        const string op = "take";
        var (outer, size, inner) = Split3(data.Shape, axis, op);
        // Take moves bits: T is any type of the element size (ushort for float16).
        var dv = data.ElementBits<T>(runtime, op);
        var iv = indices.Elements<long>(runtime, op);
        var yv = output.ElementBits<T>(runtime, op);
        int count = (int)indices.Size;
        if (output.Size != (long)outer * count * inner)
            throw new ArgumentException(
                $"{op}: the output {output} must hold {outer} x {count} x {inner} elements (data {data.Shape}, " +
                $"{count} indices, axis {axis}).");
        if (output.Size == 0) return;
        if (size == 0)
            throw new ArgumentException($"{op}: cannot take from an empty axis {axis} of {data.Shape}.");
        if (mode == TakeMode.Raise) CheckIndices(runtime, op, indices, size, axis);
        int n = (int)output.Size;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<long>, ArrayView<T>, int, int, int, int, int>(TakeKernel<T>)(
            runtime.Stream, runtime.GridStride(n), dv, iv, yv, count, size, inner, (int)mode, n);
    }

    /// <summary>
    /// The gradient of <see cref="Take{T}"/> with respect to data: dData[o, index(j), i] += dy[o, j, i]. Each
    /// thread owns one (o, i) column and adds the indices in order, so repeated indices accumulate in a fixed order
    /// without atomics. Overwrites dData unless <paramref name="accumulate"/>.
    /// </summary>
    public static void TakeBackward<T>(GpuRuntime runtime, in TensorArg dy, in TensorArg indices, int axis,
        TakeMode mode, in TensorArg dData, bool accumulate = false) where T : unmanaged, INumber<T>
    {
        const string op = "take_backward";
        var (outer, size, inner) = Split3(dData.Shape, axis, op);
        var gv = dy.Elements<T>(runtime, op);
        var iv = indices.Elements<long>(runtime, op);
        var dv = dData.Elements<T>(runtime, op);
        int count = (int)indices.Size;
        if (dy.Size != (long)outer * count * inner)
            throw new ArgumentException($"{op}: dy {dy} must hold {outer} x {count} x {inner} elements.");
        if (!accumulate) Zero(runtime, dv);
        if (dy.Size == 0) return;
        if (mode == TakeMode.Raise) CheckIndices(runtime, op, indices, size, axis);
        int columns = outer * inner;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<long>, ArrayView<T>, int, int, int, int, int>(
            TakeBackwardKernel<T>)(runtime.Stream, runtime.GridStride(columns), gv, iv, dv, count, size, inner,
            (int)mode, columns);
    }

    /// <summary>dst[j, k] = on where indices[j] == k, else off (rows of off for indices outside [0, depth)).</summary>
    public static void OneHot<T>(GpuRuntime runtime, in TensorArg indices, int depth, T onValue, T offValue,
        in TensorArg output) where T : unmanaged
    {
        const string op = "one_hot";
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var iv = indices.Elements<long>(runtime, op);
        var yv = output.Elements<T>(runtime, op);
        if (output.Size != indices.Size * depth)
            throw new ArgumentException(
                $"{op}: the output {output} must hold {indices.Size} x {depth} elements.");
        int n = (int)output.Size;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<long>, ArrayView<T>, int, T, T, int>(OneHotKernel<T>)(runtime.Stream,
            runtime.GridStride(n), iv, yv, depth, onValue, offValue, n);
    }

    private static (int Outer, int Size, int Inner) Split3(Shape shape, int axis, string op)
    {
        int a = shape.NormalizeAxis(axis, op);
        return ((int)shape.SizeOf(0, a), shape[a], (int)shape.SizeOf(a + 1, shape.Rank));
    }

    private static void CheckIndices(GpuRuntime runtime, string op, in TensorArg indices, int size, int axis)
    {
        var host = new long[indices.Size];
        runtime.CopyToHost(indices.Buffer, indices.Offset * sizeof(long),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(host.AsSpan()));
        for (int j = 0; j < host.Length; j++)
        {
            long k = host[j];
            if (k < -size || k >= size)
                throw new ArgumentOutOfRangeException(nameof(indices),
                    $"{op}: index {k} at position {j} is out of range for axis {axis} of size {size} " +
                    $"(mode raise); use indices in [{-size}, {size - 1}], or mode clip or wrap.");
        }
    }

    /// <summary>The row an index selects: raise (checked already; negative counts from the end), clip or wrap.
    /// </summary>
    private static int Row(long k, int size, int mode)
    {
        if (mode == 1) return k < 0 ? 0 : k >= size ? size - 1 : (int)k;
        if (mode == 2) return (int)((k % size + size) % size);
        return (int)(k < 0 ? k + size : k);
    }

    private static void TakeKernel<T>(ArrayView<T> data, ArrayView<long> indices, ArrayView<T> dst, int count,
        int size, int inner, int mode, int n) where T : unmanaged
    {
        for (int u = Grid.GlobalIndex.X; u < n; u += Grid.DimX * Group.DimX)
        {
            int i = u % inner;
            int rest = u / inner;
            int j = rest % count;
            int o = rest / count;
            dst[u] = data[(o * size + Row(indices[j], size, mode)) * inner + i];
        }
    }

    private static void TakeBackwardKernel<T>(ArrayView<T> dy, ArrayView<long> indices, ArrayView<T> dData,
        int count, int size, int inner, int mode, int columns) where T : unmanaged, INumber<T>
    {
        for (int c = Grid.GlobalIndex.X; c < columns; c += Grid.DimX * Group.DimX)
        {
            int i = c % inner;
            int o = c / inner;
            for (int j = 0; j < count; j++)
            {
                int target = (o * size + Row(indices[j], size, mode)) * inner + i;
                dData[target] += dy[(o * count + j) * inner + i];
            }
        }
    }

    private static void OneHotKernel<T>(ArrayView<long> indices, ArrayView<T> dst, int depth, T on, T off, int n)
        where T : unmanaged
    {
        for (int u = Grid.GlobalIndex.X; u < n; u += Grid.DimX * Group.DimX)
            dst[u] = indices[u / depth] == u % depth ? on : off;
    }
}
