using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Layout kernels on the GPU: strided copies, fills, casts, concatenation and split, take and one-hot, padding.
/// Grid-stride loops with one element per thread step; index arithmetic in 32-bit integers.
/// </summary>
public static partial class GpuLayout
{
    /// <summary>destination = source, any layouts of one shape and element size on the device (bytes only).</summary>
    public static void Copy(GpuRuntime runtime, in TensorArg source, in TensorArg destination)
    {
        const string op = "copy";
        GpuTensor.CheckSize(source, op);
        if (source.Size == 0) return;
        switch (source.DType.SizeInBytes())
        {
            case 1: CopyCore<byte>(runtime, source, destination); break;
            case 2: CopyCore<short>(runtime, source, destination); break;
            case 4: CopyCore<int>(runtime, source, destination); break;
            default: CopyCore<long>(runtime, source, destination); break;
        }
    }

    private static void CopyCore<T>(GpuRuntime runtime, in TensorArg source, in TensorArg destination)
        where T : unmanaged
    {
        var src = source.RawBuffer<T>(runtime, "copy");
        var dst = destination.RawBuffer<T>(runtime, "copy");
        int n = (int)source.Size;
        if (source.IsContiguous && destination.IsContiguous)
        {
            dst.SubView(destination.Offset, n).CopyFrom(runtime.Stream, src.SubView(source.Offset, n));
            return;
        }
        var nest = Cpu.LoopNest.Create(source.Shape, source.Layout.Strides, destination.Layout.Strides);
        var si = StridedIndex.Create(nest.Dims, nest.Strides[0], source.Offset);
        var di = StridedIndex.Create(nest.Dims, nest.Strides[1], destination.Offset);
        runtime.Kernels.Load<ArrayView<T>, StridedIndex, ArrayView<T>, StridedIndex, int>(CopyKernel<T>)(
            runtime.Stream, runtime.GridStride(n), src, si, dst, di, n);
    }

    private static void CopyKernel<T>(ArrayView<T> src, StridedIndex si, ArrayView<T> dst, StridedIndex di, int n)
        where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) dst[di.At(i)] = src[si.At(i)];
    }

    /// <summary>Sets every element of the contiguous <paramref name="destination"/> to <paramref name="value"/>.
    /// </summary>
    public static void Fill<T>(GpuRuntime runtime, in TensorArg destination, T value) where T : unmanaged
    {
        var dst = destination.Elements<T>(runtime, "fill");
        int n = (int)destination.Size;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, T, int>(FillKernel<T>)(runtime.Stream, runtime.GridStride(n), dst, value, n);
    }

    /// <summary>
    /// Fills the contiguous <paramref name="destination"/> with a bit pattern of its element size (int8, bool and
    /// float16 elements, which have no GPU arithmetic here).
    /// </summary>
    public static void FillBits<T>(GpuRuntime runtime, in TensorArg destination, T bits) where T : unmanaged
    {
        if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != destination.DType.SizeInBytes() ||
            !destination.IsContiguous)
            throw new ArgumentException($"fill: {typeof(T).Name} bits do not fit the elements of {destination}.");
        int n = (int)destination.Size;
        if (n == 0) return;
        var dst = destination.RawBuffer<T>(runtime, "fill").SubView(destination.Offset, n);
        runtime.Kernels.Load<ArrayView<T>, T, int>(FillKernel<T>)(runtime.Stream, runtime.GridStride(n), dst, bits, n);
    }

    /// <summary>Zeroes a view of device memory on the device's stream.</summary>
    internal static void Zero<T>(GpuRuntime runtime, ArrayView<T> view) where T : unmanaged
    {
        if (view.Length == 0) return;
        int n = checked((int)view.Length);
        runtime.Kernels.Load<ArrayView<T>, T, int>(FillKernel<T>)(runtime.Stream, runtime.GridStride(n), view,
            default, n);
    }

    private static void FillKernel<T>(ArrayView<T> dst, T value, int n) where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) dst[i] = value;
    }
}
