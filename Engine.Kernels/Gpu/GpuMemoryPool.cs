using Engine.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The caching allocator of one GPU. Every raw device free (cuMemFree) synchronises the whole device, so freed
/// blocks are never handed back to the driver while the process runs steadily: requests are rounded up to a size
/// class (256-byte steps up to 4 KiB, then four classes per power of two, as the CPU pool) and freed blocks wait in
/// their class for the next request. Blocks up to <see cref="ArenaBlockLimit"/> are cut from 16 MiB arenas, so a
/// network's many small tensors cost a handful of driver allocations; larger blocks are device buffers of their own,
/// freed only by <see cref="ReleaseCached"/> or when the cache passes <see cref="CacheLimitBytes"/>.
/// </summary>
/// <remarks>
/// A block returned to the pool may still be read by kernels queued on the device's stream; that is safe because
/// all work of a device is ordered on its one stream, so the next user's kernels run after them.
/// </remarks>
public sealed class GpuMemoryPool
{
    /// <summary>Alignment of every block: 256 bytes, what cuMemAlloc gives and vector loads want.</summary>
    public const long Alignment = 256;

    /// <summary>Largest block cut from an arena (1 MiB); larger ones get their own device buffer.</summary>
    public const long ArenaBlockLimit = 1L << 20;

    /// <summary>Size of one arena (16 MiB): at most one sixteenth of it stays unused at its end.</summary>
    public const long ArenaBytes = 16L << 20;

    private readonly object gate = new();
    private readonly Accelerator accelerator;
    private readonly Dictionary<long, Stack<Block>> free = new();
    private readonly List<MemoryBuffer1D<byte, Stride1D.Dense>> arenas = new();
    private MemoryBuffer1D<byte, Stride1D.Dense>? arena;
    private long arenaUsed;
    private long inUse, cached, peak, rents, reserved, deviceAllocations;

    internal GpuMemoryPool(Device device, Accelerator accelerator)
    {
        Device = device;
        this.accelerator = accelerator;
    }

    public Device Device { get; }

    /// <summary>Cached bytes of large blocks kept for reuse; above it they are freed. Default 4 GiB.</summary>
    public long CacheLimitBytes { get; set; } = 4L << 30;

    /// <summary>Bytes in use, cached and at peak, and the number of rents (as the CPU pool reports them).</summary>
    public MemoryStats Stats
    {
        get
        {
            lock (gate) return new MemoryStats(inUse, cached, peak, rents);
        }
    }

    /// <summary>Device memory the pool holds (arenas and large blocks), in bytes.</summary>
    public long ReservedBytes
    {
        get
        {
            lock (gate) return reserved;
        }
    }

    /// <summary>Raw device allocations made so far (arenas and large blocks).</summary>
    public long DeviceAllocations
    {
        get
        {
            lock (gate) return deviceAllocations;
        }
    }

    /// <summary>A buffer of at least <paramref name="bytes"/> bytes; contents undefined.</summary>
    public GpuBuffer Rent(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long capacity = SizeClass(bytes);
        Block? block = null;
        lock (gate)
        {
            if (free.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                block = stack.Pop();
                cached -= capacity;
            }
            else if (capacity <= ArenaBlockLimit)
            {
                block = CutFromArena(capacity);
            }
            inUse += capacity;
            peak = Math.Max(peak, inUse);
            rents++;
        }
        block ??= AllocateLarge(capacity);
        return new GpuBuffer(this, block, bytes);
    }

    /// <summary>Frees every cached large block (arenas stay: their blocks cannot be freed one by one).</summary>
    public void ReleaseCached()
    {
        var release = new List<Block>();
        lock (gate)
        {
            foreach (var (capacity, stack) in free)
            {
                if (capacity <= ArenaBlockLimit) continue;
                while (stack.Count > 0) release.Add(stack.Pop());
                // cached counts only what remains
            }
            foreach (var b in release)
            {
                cached -= b.Capacity;
                reserved -= b.Capacity;
            }
        }
        foreach (var b in release) b.Owner!.Dispose();
    }

    internal void Return(Block block)
    {
        bool dispose = false;
        lock (gate)
        {
            inUse -= block.Capacity;
            if (block.Owner is null || cached + block.Capacity <= CacheLimitBytes)
            {
                if (!free.TryGetValue(block.Capacity, out var stack)) free[block.Capacity] = stack = new Stack<Block>();
                stack.Push(block);
                cached += block.Capacity;
            }
            else
            {
                reserved -= block.Capacity;
                dispose = true;
            }
        }
        if (dispose) block.Owner!.Dispose();
    }

    private Block CutFromArena(long capacity)
    {
        if (arena is null || arenaUsed + capacity > ArenaBytes)
        {
            arena = accelerator.Allocate1D<byte>(ArenaBytes);
            arenas.Add(arena);
            arenaUsed = 0;
            reserved += ArenaBytes;
            deviceAllocations++;
        }
        ArrayView<byte> whole = arena.View;
        var block = new Block(whole.SubView(arenaUsed, capacity), capacity, null);
        arenaUsed += capacity;
        return block;
    }

    private Block AllocateLarge(long capacity)
    {
        MemoryBuffer1D<byte, Stride1D.Dense> buffer;
        try
        {
            buffer = accelerator.Allocate1D<byte>(capacity);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            ReleaseCached();
            try
            {
                buffer = accelerator.Allocate1D<byte>(capacity);
            }
            catch (Exception again) when (again is OutOfMemoryException or AcceleratorException)
            {
                var s = Stats;
                throw new OutOfMemoryException(
                    $"{Device}: cannot allocate {capacity} bytes of device memory ({s.BytesInUse} in use, " +
                    $"{ReservedBytes} held by the pool): {again.Message} Free arrays you no longer need " +
                    "(Dispose or NDArray.Scope) or use a smaller batch.", again);
            }
        }
        lock (gate)
        {
            reserved += capacity;
            deviceAllocations++;
        }
        return new Block(buffer.View, capacity, buffer);
    }

    internal static long SizeClass(long bytes)
    {
        if (bytes <= 4096) return Math.Max(Alignment, (bytes + Alignment - 1) / Alignment * Alignment);
        // Four classes per power of two bound the waste to 25% while letting similar sizes share blocks.
        int log = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes - 1));
        long step = 1L << (log - 2);
        return (bytes + step - 1) / step * step;
    }

    /// <summary>A slice of device memory: from an arena (Owner null) or a device buffer of its own.</summary>
    internal sealed record Block(ArrayView<byte> View, long Capacity, MemoryBuffer1D<byte, Stride1D.Dense>? Owner);
}
