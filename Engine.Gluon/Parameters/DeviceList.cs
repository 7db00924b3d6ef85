using System.Collections;
using System.Runtime.CompilerServices;

namespace Engine.Gluon;

/// <summary>
/// One device or several, distinct and in order: where a parameter keeps its copies (MXNet's ctx, a Context or a
/// list of them). A <see cref="Device"/> converts to it, and so does a collection expression:
/// <c>net.Initialize(device: Device.Cpu)</c>, <c>net.Initialize(device: [cpu0, cpu1])</c>.
/// </summary>
[CollectionBuilder(typeof(DeviceList), nameof(Create))]
public sealed class DeviceList : IReadOnlyList<Device>
{
    private readonly Device[] devices;

    private DeviceList(Device[] devices)
    {
        if (devices.Length == 0)
            throw new ArgumentException("A device list needs at least one device, e.g. [Device.Cpu].");
        for (int i = 0; i < devices.Length; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (devices[i] == devices[j])
                    throw new ArgumentException(
                        $"Device {devices[i]} appears twice in the device list {Format(devices)}; list each once.");
            }
        }
        this.devices = devices;
    }

    /// <summary>The list of the given devices (what a collection expression calls).</summary>
    public static DeviceList Create(ReadOnlySpan<Device> devices) => new(devices.ToArray());

    public static implicit operator DeviceList(Device device) => new([device]);

    public static implicit operator DeviceList(Device[] devices) =>
        new((devices ?? throw new ArgumentNullException(nameof(devices))).ToArray());

    public Device this[int index] => devices[index];

    public int Count => devices.Length;

    public IEnumerator<Device> GetEnumerator() => ((IEnumerable<Device>)devices).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Format(devices);

    internal static string Format(IEnumerable<Device> devices) => "[" + string.Join(", ", devices) + "]";
}
