using Engine.Memory;

namespace Engine.Kernels;

/// <summary>
/// What the layers above need from a device: memory, copies to and from the host, and synchronisation.
/// One implementation per backend (CpuRuntime here; the CUDA runtime mirrors it).
/// </summary>
public abstract class DeviceRuntime
{
    public abstract Device Device { get; }

    public abstract DeviceBuffer Allocate(long bytes);

    public abstract MemoryStats MemoryStats { get; }

    public abstract void CopyFromHost(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationOffset);

    public abstract void CopyToHost(DeviceBuffer source, long sourceOffset, Span<byte> destination);

    public abstract void Synchronize();

    /// <summary>The runtime of a device, or an error that says why the device cannot be used.</summary>
    public static DeviceRuntime For(Device device) => device.Kind switch
    {
        DeviceKind.Cpu when device.Ordinal >= 0 => CpuRuntime.For(device.Ordinal),
        DeviceKind.Cpu => throw new ArgumentOutOfRangeException(nameof(device),
            $"Device cpu({device.Ordinal}): a CPU device number must be 0 or more (cpu(0) is Device.Cpu)."),
        DeviceKind.Cuda => throw new NotSupportedException(
            $"Device {device} was requested, but this build of Engine has no CUDA backend yet. " +
            "Use Device.Cpu for now."),
        _ => throw new ArgumentOutOfRangeException(nameof(device), $"unknown device kind {device.Kind}"),
    };
}
