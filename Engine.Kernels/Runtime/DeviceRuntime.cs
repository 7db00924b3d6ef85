using Engine.Memory;

namespace Engine.Kernels;

/// <summary>
/// What the layers above need from a device: memory, copies to and from the host, and synchronisation.
/// One implementation per backend: CpuRuntime, and GpuRuntime (ILGPU) for CUDA, OpenCL and the simulated GPU.
/// </summary>
public abstract class DeviceRuntime
{
    public abstract Device Device { get; }

    public abstract DeviceBuffer Allocate(long bytes);

    public abstract MemoryStats MemoryStats { get; }

    public abstract void CopyFromHost(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationOffset);

    public abstract void CopyToHost(DeviceBuffer source, long sourceOffset, Span<byte> destination);

    public abstract void Synchronize();

    /// <summary>
    /// Copies the elements of <paramref name="source"/> into <paramref name="destination"/> (same shape and element
    /// size, any layouts on this device), moving bytes only.
    /// </summary>
    public void Copy(in TensorArg source, in TensorArg destination)
    {
        if (source.Shape != destination.Shape || source.DType.SizeInBytes() != destination.DType.SizeInBytes())
            throw new ArgumentException(
                $"copy: cannot copy {source} into {destination}; shapes and element sizes must match.");
        if (source.Device != Device || destination.Device != Device)
            throw new ArgumentException($"copy: {source} and {destination} must both be on {Device}.");
        CopyCore(source, destination);
    }

    protected abstract void CopyCore(in TensorArg source, in TensorArg destination);

    /// <summary>The runtime of a device, or an error that says why the device cannot be used.</summary>
    public static DeviceRuntime For(Device device) => device.Kind switch
    {
        DeviceKind.Cpu when device.Ordinal >= 0 => CpuRuntime.For(device.Ordinal),
        DeviceKind.Cpu => throw new ArgumentOutOfRangeException(nameof(device),
            $"Device cpu({device.Ordinal}): a CPU device number must be 0 or more (cpu(0) is Device.Cpu)."),
        DeviceKind.Cuda or DeviceKind.GpuSimulator or DeviceKind.OpenCL => Gpu.GpuRuntime.Get(device),
        _ => throw new ArgumentOutOfRangeException(nameof(device), $"unknown device kind {device.Kind}"),
    };
}
