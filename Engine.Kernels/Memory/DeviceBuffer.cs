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

    public Device Device { get; }

    /// <summary>Usable size in bytes (the pool may have reserved more).</summary>
    public long Bytes { get; }

    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        ReleaseCore();
        GC.SuppressFinalize(this);
    }

    ~DeviceBuffer()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0) ReleaseCore();
    }

    protected abstract void ReleaseCore();
}

/// <summary>Byte counts a pool reports.</summary>
public readonly record struct MemoryStats(long BytesInUse, long BytesCached, long PeakBytesInUse, long Allocations);
