namespace Engine.Memory;

/// <summary>A block of device memory rented from a pool. Disposing it hands it back to the pool.</summary>
public abstract class DeviceBuffer : IDisposable
{
    private int disposed;

    protected DeviceBuffer(Device device, long bytes)
    {
        Device = device;
        Bytes = bytes;
    }

    public Device Device { get; private set; }

    /// <summary>Usable size in bytes (the pool may have reserved more).</summary>
    public long Bytes { get; private set; }

    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        // A pooled handle keeps its finaliser registration for its next life; others release and suppress it.
        if (ReleaseForReuse()) return;
        ReleaseCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Hands the block and this object back to a pool that revives the object for a later rent; false where the
    /// buffer is not pooled that way (then <see cref="ReleaseCore"/> runs).
    /// </summary>
    private protected virtual bool ReleaseForReuse() => false;

    /// <summary>Makes a disposed, pooled handle live again, with <paramref name="bytes"/> usable bytes.</summary>
    private protected void Revive(long bytes, Device device)
    {
        Bytes = bytes;
        Device = device;
        Volatile.Write(ref disposed, 0);
    }

    ~DeviceBuffer()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0) ReleaseCore();
    }

    protected abstract void ReleaseCore();
}

/// <summary>Byte counts a pool reports.</summary>
public readonly record struct MemoryStats(long BytesInUse, long BytesCached, long PeakBytesInUse, long Allocations);
