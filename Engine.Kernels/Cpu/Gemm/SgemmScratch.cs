using System.Runtime.InteropServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Packing memory for the float GEMM drivers, one block per thread kept from call to call. Renting from
/// <see cref="Engine.Memory.CpuMemoryPool"/> costs a lock, a finalizable buffer object and (above 64 KB) a
/// GC memory-pressure update per call, several microseconds in all, as much as a whole small GEMM. The block only
/// grows to the largest packed panels the drivers use (about 1 MB: a KC x NC B panel and an MC x KC A block), and is
/// freed with its thread.
/// </summary>
internal sealed unsafe class SgemmScratch
{
    [ThreadStatic]
    private static SgemmScratch? idle;

    private void* block;
    private long capacity;

    /// <summary>This thread's scratch, or a new one if a caller up the stack holds it.</summary>
    public static SgemmScratch Rent()
    {
        var scratch = idle ?? new SgemmScratch();
        idle = null;
        return scratch;
    }

    /// <summary>Hands the scratch back to this thread for the next call.</summary>
    public void Return() => idle = this;

    /// <summary>
    /// A 64-byte aligned block of at least <paramref name="count"/> floats (contents undefined), valid until the
    /// next call or <see cref="Return"/>.
    /// </summary>
    public float* Floats(long count)
    {
        long bytes = Math.Max(64, count * sizeof(float));
        if (bytes > capacity)
        {
            NativeMemory.AlignedFree(block);
            block = null;
            capacity = 0;
            block = NativeMemory.AlignedAlloc((nuint)bytes, 64);
            capacity = bytes;
        }
        return (float*)block;
    }

    ~SgemmScratch() => NativeMemory.AlignedFree(block);
}
