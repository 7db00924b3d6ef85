using System.Runtime.InteropServices;

namespace Engine.Memory;

/// <summary>
/// A thread-safe caching pool of 64-byte aligned native memory. Requests are rounded up to a size class
/// (64-byte multiples below 4 KiB, then four classes per power of two) so that freed blocks are reused by
/// requests of similar size; cached blocks beyond <see cref="CacheLimitBytes"/> are released to the OS.
/// A block comes back with its <see cref="CpuBuffer"/> handle when it was disposed, and the next rent of its size
/// class reuses that handle: a buffer's finaliser (the safety net for arrays nobody disposed) makes allocating a
/// new handle cost about 200 ns, most of a tiny operator's eager call.
/// </summary>
public sealed unsafe class CpuMemoryPool
{
    public const int Alignment = 64;

    private readonly object gate = new();
    private readonly Dictionary<long, Stack<(nint Pointer, CpuBuffer? Handle)>> free = new();
    private long inUse, cached, peak, allocations;

    public static CpuMemoryPool Shared { get; } = new();

    /// <summary>Cached bytes kept for reuse; above it, returned blocks are freed. Default 2 GiB.</summary>
    public long CacheLimitBytes { get; set; } = 2L << 30;

    public MemoryStats Stats
    {
        get
        {
            lock (gate) return new MemoryStats(inUse, cached, peak, allocations);
        }
    }

    /// <summary>Rents a buffer of at least <paramref name="bytes"/> bytes (zero allowed); contents undefined.</summary>
    public CpuBuffer Rent(long bytes) => Rent(bytes, Device.Cpu);

    /// <summary>Rents a buffer labelled with a CPU device, cpu(n) (CpuRuntime of that ordinal).</summary>
    internal CpuBuffer Rent(long bytes, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        // No machine has 2^60 bytes; refusing here also keeps the size-class arithmetic from overflowing.
        if (bytes > 1L << 60)
            throw new OutOfMemoryException($"CpuMemoryPool: {bytes} bytes requested, more than any machine holds.");
        long capacity = SizeClass(bytes);
        nint p = 0;
        CpuBuffer? handle = null;
        lock (gate)
        {
            if (free.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                (p, handle) = stack.Pop();
                cached -= capacity;
                Count(capacity);
            }
        }
        if (handle is not null)
        {
            handle.Reuse(bytes, device);
            return handle;
        }
        if (p == 0)
        {
            p = AllocateNew(bytes, capacity);
            // Counted only once the block exists: a failed request leaves the statistics as they were.
            lock (gate) Count(capacity);
        }
        return new CpuBuffer(this, p, bytes, capacity, device);
    }

    private void Count(long capacity)
    {
        inUse += capacity;
        peak = Math.Max(peak, inUse);
        allocations++;
    }

    private nint AllocateNew(long bytes, long capacity)
    {
        nint p;
        try
        {
            p = AlignedAlloc(capacity);
        }
        catch (OutOfMemoryException)
        {
            ReleaseCached();
            try
            {
                p = AlignedAlloc(capacity);
            }
            catch (OutOfMemoryException e)
            {
                var stats = Stats;
                throw new OutOfMemoryException(
                    $"CpuMemoryPool: the system refused {capacity} bytes ({bytes} requested) of native memory, " +
                    $"with {stats.BytesInUse} bytes in use by this pool and its cache released; free or dispose " +
                    "arrays, " +
                    "or use smaller batches.", e);
            }
        }
        // Tell the GC about the native memory the pool holds, so that arrays nobody disposed are collected
        // (and their finalizers return buffers) before the process grows without bound. Only new blocks count:
        // a steady training loop reuses cached blocks and reports nothing, because every report moves the GC
        // towards an induced full collection (measured: most steps of a small MLP paid for one).
        if (capacity >= PressureThreshold) GC.AddMemoryPressure(capacity);
        return p;
    }

    private static nint AlignedAlloc(long capacity) => (nint)NativeMemory.AlignedAlloc((nuint)capacity, Alignment);

    /// <summary>Blocks below this size are not reported to the GC: the calls would cost more than they help.</summary>
    private const long PressureThreshold = 64 * 1024;

    /// <summary>Rents a buffer and fills it with zeros.</summary>
    public CpuBuffer RentZeroed(long bytes)
    {
        var b = Rent(bytes);
        NativeMemory.Clear((void*)b.Pointer, (nuint)b.Bytes);
        return b;
    }

    /// <summary>Frees every cached block.</summary>
    public void ReleaseCached()
    {
        lock (gate)
        {
            foreach (var (capacity, stack) in free)
            {
                while (stack.Count > 0)
                {
                    var (p, handle) = stack.Pop();
                    Free(p, capacity, handle);
                }
            }
            cached = 0;
        }
    }

    /// <summary>
    /// Takes a block back: with its <paramref name="handle"/> for reuse when the buffer was disposed, without one
    /// when its finaliser returns it (a finalised object must not be handed out again: it has no safety net left).
    /// </summary>
    internal void Return(nint pointer, long capacity, CpuBuffer? handle)
    {
        lock (gate)
        {
            inUse -= capacity;
            if (cached + capacity <= CacheLimitBytes)
            {
                if (!free.TryGetValue(capacity, out var stack)) free[capacity] = stack = new();
                stack.Push((pointer, handle));
                cached += capacity;
                return;
            }
        }
        Free(pointer, capacity, handle);
    }

    private static void Free(nint pointer, long capacity, CpuBuffer? handle)
    {
        // The handle is dropped with its block; it is disposed, so its finaliser would do nothing.
        if (handle is not null) GC.SuppressFinalize(handle);
        NativeMemory.AlignedFree((void*)pointer);
        if (capacity >= PressureThreshold) GC.RemoveMemoryPressure(capacity);
    }

    internal static long SizeClass(long bytes)
    {
        if (bytes <= 4096) return Math.Max(Alignment, (bytes + Alignment - 1) / Alignment * Alignment);
        // Four classes per power of two bound the waste to 25% while letting similar sizes share blocks.
        int log = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes - 1));
        long step = 1L << (log - 2);
        return (bytes + step - 1) / step * step;
    }
}
