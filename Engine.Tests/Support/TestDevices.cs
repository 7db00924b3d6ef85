using Engine.Backends;

namespace Engine.Tests.Support;

/// <summary>
/// The devices the table-driven suites run on: the CPU always, and the first device of every other built backend
/// when <c>ENGINE_TEST_DEVICES=all</c> (GPU backends run their own test assembly with sizes that suit them; this
/// switch runs the CPU tables there too).
/// </summary>
public static class TestDevices
{
    public static IEnumerable<Device> Built()
    {
        yield return Device.Cpu;
        if (Environment.GetEnvironmentVariable("ENGINE_TEST_DEVICES") != "all") yield break;
        foreach (var backend in BackendRegistry.All)
        {
            if (backend.DeviceKinds[0] != DeviceKind.Cpu) yield return new Device(backend.DeviceKinds[0], 0);
        }
    }
}

/// <summary>
/// A fixture run once per device of <see cref="TestDevices.Built"/>: arrays created without a device go to the
/// fixture's device, so the same table checks every backend.
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.Built))]
public abstract class DeviceFixture(Device device)
{
    private IDisposable? scope;

    protected Device Device { get; } = device;

    [SetUp]
    public void UseDevice() => scope = DefaultDevice.Use(Device);

    [TearDown]
    public void RestoreDevice() => scope?.Dispose();
}
