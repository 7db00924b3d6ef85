using Engine.Memory;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>A block of GPU memory from a <see cref="GpuMemoryPool"/>: a 256-byte aligned slice of a device buffer.
/// </summary>
public sealed class GpuBuffer : DeviceBuffer
{
    private readonly GpuMemoryPool pool;

    internal GpuBuffer(GpuMemoryPool pool, GpuMemoryPool.Block block, long bytes)
        : base(pool.Device, bytes)
    {
        this.pool = pool;
        Block = block;
    }

    internal GpuMemoryPool.Block Block { get; }

    /// <summary>Bytes reserved for the buffer (its size class).</summary>
    public long Capacity => Block.Capacity;

    /// <summary>The whole block as elements of T (the capacity is a multiple of every element size).</summary>
    internal ArrayView<T> View<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return Block.View.Cast<T>();
    }

    protected override void ReleaseCore() => pool.Return(Block);
}
