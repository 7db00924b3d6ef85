using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Where the GPU reduction kernels read element <c>i</c> (an offset in the plan's layout): memory, or a fused
/// program evaluated at that position (GpuFusedReduce), so the reduced register is never stored.
/// </summary>
public interface IGpuReduceSource<T> where T : unmanaged
{
    T Read(int index);
}

/// <summary>Elements read from a buffer.</summary>
public readonly struct GpuMemorySource<T>(ArrayView<T> x) : IGpuReduceSource<T> where T : unmanaged
{
    private readonly ArrayView<T> x = x;

    public T Read(int index) => x[index];
}
