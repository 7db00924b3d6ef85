namespace Engine;

public enum DeviceKind
{
    Cpu = 1,
    Cuda = 2,
}

/// <summary>
/// Where an array lives. <c>Device.Cpu</c> or <c>Device.Cuda(n)</c>; printed as MXNet does: cpu(0), gpu(0).
/// <c>new Device(DeviceKind.Cpu, n)</c> is MXNet's cpu(n): a distinct device on the same processor and memory,
/// for testing multi-device code on one machine.
/// </summary>
public readonly record struct Device(DeviceKind Kind, int Ordinal)
{
    public static Device Cpu { get; } = new(DeviceKind.Cpu, 0);

    public static Device Cuda(int ordinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return new Device(DeviceKind.Cuda, ordinal);
    }

    public override string ToString() => Kind == DeviceKind.Cpu ? $"cpu({Ordinal})" : $"gpu({Ordinal})";
}
