using Engine.Memory;

namespace Engine.Kernels.Cpu;

/// <summary>The CPU backend's access to kernel arguments: spans over the host memory of a CPU buffer.</summary>
public static unsafe class CpuTensor
{
    /// <summary>The elements from the argument's offset on, as T: for contiguous arguments.</summary>
    public static Span<T> Span<T>(this in TensorArg x) where T : unmanaged
    {
        CheckType<T>(x);
        return Raw<T>(x);
    }

    /// <summary>Exactly the argument's elements (contiguous arguments only).</summary>
    public static Span<T> Elements<T>(this in TensorArg x) where T : unmanaged
    {
        if (!x.IsContiguous)
            throw new InvalidOperationException($"kernel argument {x} is not contiguous; make it so first.");
        return Span<T>(x)[..checked((int)x.Size)];
    }

    /// <summary>The whole buffer as T, for kernels that take a layout with an offset and strides.</summary>
    public static Span<T> Buffer<T>(this in TensorArg x) where T : unmanaged
    {
        CheckType<T>(x);
        return RawBuffer<T>(x);
    }

    /// <summary>The whole buffer reinterpreted as T (copies that only move bytes).</summary>
    public static Span<T> RawBuffer<T>(this in TensorArg x) where T : unmanaged
    {
        var b = Host(x);
        return new Span<T>((void*)b.Pointer, checked((int)(b.Bytes / sizeof(T))));
    }

    /// <summary>The elements from the offset on, reinterpreted as T.</summary>
    public static Span<T> Raw<T>(this in TensorArg x) where T : unmanaged
    {
        var b = Host(x);
        long length = Math.Max(0, x.Layout.Extent - x.Offset);
        if ((x.Offset + length) * sizeof(T) > b.Bytes)
            throw new InvalidOperationException($"kernel argument {x} does not fit its buffer of {b.Bytes} bytes.");
        return new Span<T>((T*)b.Pointer + x.Offset, checked((int)length));
    }

    private static CpuBuffer Host(in TensorArg x)
    {
        if (x.Buffer is not CpuBuffer b)
            throw new InvalidOperationException(
                $"kernel argument {x} is not in CPU memory; a CPU kernel was handed a buffer of another device.");
        ObjectDisposedException.ThrowIf(b.IsDisposed, b);
        return b;
    }

    private static void CheckType<T>(in TensorArg x) where T : unmanaged
    {
        if (DTypeExtensions.Of<T>() != x.DType)
            throw new InvalidOperationException(
                $"kernel argument {x} holds {x.DType.Name()}, read as {DTypeExtensions.Of<T>().Name()}.");
    }
}
