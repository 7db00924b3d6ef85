using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>The GPU backend's access to kernel arguments: ILGPU views of their buffers.</summary>
internal static class GpuTensor
{
    /// <summary>GPU kernels index with 32-bit integers: arrays up to 2^31 - 1 elements.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>The whole buffer as T (kernels add the layout's offset themselves).</summary>
    public static ArrayView<T> Buffer<T>(this in TensorArg x, GpuRuntime runtime, string op) where T : unmanaged
    {
        CheckType<T>(x, op);
        return RawBuffer<T>(x, runtime, op);
    }

    /// <summary>The whole buffer reinterpreted as T (copies that move bytes).</summary>
    public static ArrayView<T> RawBuffer<T>(this in TensorArg x, GpuRuntime runtime, string op) where T : unmanaged
    {
        var view = runtime.Own(x.Buffer, op).View<T>();
        x.Layout.CheckFits(view.Length, op);
        CheckSize(x, op);
        return view;
    }

    /// <summary>Exactly the argument's elements, for contiguous arguments.</summary>
    public static ArrayView<T> Elements<T>(this in TensorArg x, GpuRuntime runtime, string op) where T : unmanaged
    {
        if (!x.IsContiguous)
            throw new InvalidOperationException($"{op}: kernel argument {x} is not contiguous; make it so first.");
        var view = x.Buffer<T>(runtime, op);
        return view.SubView(x.Offset, x.Size);
    }

    /// <summary>Exactly the argument's elements as T of the element size (bool, float16), for contiguous
    /// arguments: kernels that move or convert bits.</summary>
    public static ArrayView<T> ElementBits<T>(this in TensorArg x, GpuRuntime runtime, string op) where T : unmanaged
    {
        if (!x.IsContiguous)
            throw new InvalidOperationException($"{op}: kernel argument {x} is not contiguous; make it so first.");
        if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != x.DType.SizeInBytes())
            throw new InvalidOperationException(
                $"{op}: kernel argument {x} holds {x.DType.Name()}, read as {typeof(T).Name} of another size.");
        return x.RawBuffer<T>(runtime, op).SubView(x.Offset, x.Size);
    }

    public static void CheckSize(in TensorArg x, string op)
    {
        if (x.Size > MaxElements)
            throw new NotSupportedException(
                $"{op}: {x} has {x.Size} elements; GPU kernels index with 32-bit integers (at most {MaxElements}). " +
                "Split the work into smaller arrays.");
    }

    public static void CheckType<T>(in TensorArg x, string op) where T : unmanaged
    {
        if (DTypeExtensions.Of<T>() != x.DType)
            throw new InvalidOperationException(
                $"{op}: kernel argument {x} holds {x.DType.Name()}, read as {DTypeExtensions.Of<T>().Name()}.");
    }
}
