using Engine.Kernels.Cpu;
using Engine.Memory;

namespace Engine.Kernels;

/// <summary>
/// The CPU backend's runtime for one CPU device. cpu(0) is <see cref="Instance"/>; cpu(1), cpu(2), ... are distinct
/// devices as in MXNet (arrays on different ones do not mix in an operation), over the same memory pool and
/// kernels, so multi-device code can be tested on one machine.
/// </summary>
public sealed unsafe class CpuRuntime : DeviceRuntime
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, CpuRuntime> byOrdinal = new();

    public static CpuRuntime Instance { get; } = For(0);

    private CpuRuntime(int ordinal) => Device = new Device(DeviceKind.Cpu, ordinal);

    /// <summary>The runtime of cpu(<paramref name="ordinal"/>).</summary>
    public static CpuRuntime For(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return byOrdinal.GetOrAdd(ordinal, n => new CpuRuntime(n));
    }

    public override Device Device { get; }

    public CpuMemoryPool Pool => CpuMemoryPool.Shared;

    public override MemoryStats MemoryStats => Pool.Stats;

    public override DeviceBuffer Allocate(long bytes) => Pool.Rent(bytes, Device);

    public override void CopyFromHost(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationOffset)
    {
        var dst = (CpuBuffer)destination;
        if (destinationOffset < 0 || destinationOffset + source.Length > dst.Bytes)
            throw new ArgumentOutOfRangeException(nameof(destinationOffset),
                $"copy: {source.Length} bytes at offset {destinationOffset} do not fit a buffer of {dst.Bytes} bytes.");
        source.CopyTo(new Span<byte>((byte*)dst.Pointer + destinationOffset, source.Length));
    }

    public override void CopyToHost(DeviceBuffer source, long sourceOffset, Span<byte> destination)
    {
        var src = (CpuBuffer)source;
        if (sourceOffset < 0 || sourceOffset + destination.Length > src.Bytes)
            throw new ArgumentOutOfRangeException(nameof(sourceOffset),
                $"copy: {destination.Length} bytes at offset {sourceOffset} exceed a buffer of {src.Bytes} bytes.");
        new ReadOnlySpan<byte>((byte*)src.Pointer + sourceOffset, destination.Length).CopyTo(destination);
    }

    public override void Synchronize() { }

    protected override void CopyCore(in TensorArg source, in TensorArg destination)
    {
        switch (source.DType.SizeInBytes())
        {
            case 1: CpuLayout.Copy(source.RawBuffer<byte>(), source.Layout, destination.RawBuffer<byte>(),
                destination.Layout); break;
            case 2: CpuLayout.Copy(source.RawBuffer<short>(), source.Layout, destination.RawBuffer<short>(),
                destination.Layout); break;
            case 4: CpuLayout.Copy(source.RawBuffer<int>(), source.Layout, destination.RawBuffer<int>(),
                destination.Layout); break;
            default: CpuLayout.Copy(source.RawBuffer<long>(), source.Layout, destination.RawBuffer<long>(),
                destination.Layout); break;
        }
    }
}
