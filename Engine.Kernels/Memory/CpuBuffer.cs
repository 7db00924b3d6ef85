namespace Engine.Memory;

/// <summary>64-byte aligned native memory on the CPU; <see cref="DeviceBuffer.Device"/> is cpu(n) for the CPU
/// device it was rented for (all CPU devices share the host's memory and pool).</summary>
public sealed unsafe class CpuBuffer : DeviceBuffer
{
    private readonly CpuMemoryPool pool;

    internal CpuBuffer(CpuMemoryPool pool, nint pointer, long bytes, long capacity, Device device)
        : base(device, bytes)
    {
        this.pool = pool;
        Pointer = pointer;
        Capacity = capacity;
    }

    public nint Pointer { get; }

    internal long Capacity { get; }

    public Span<T> AsSpan<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new Span<T>((void*)Pointer, checked((int)(Bytes / sizeof(T))));
    }

    internal void Reuse(long bytes, Device device) => Revive(bytes, device);

    /// <summary>From the finaliser: the block goes back without this handle.</summary>
    protected override void ReleaseCore() => pool.Return(Pointer, Capacity, null);

    /// <summary>Disposed: the block and this handle go back to the pool together, the handle to be revived.</summary>
    private protected override bool ReleaseForReuse()
    {
        pool.Return(Pointer, Capacity, this);
        return true;
    }
}
