using Engine.Backends;

namespace Engine.Tests.Support;

/// <summary>
/// The devices the table-driven suites run on: the CPU always, and with <c>ENGINE_TEST_DEVICES=all</c> the first
/// usable device of every other built backend (for the GPU backend: cuda(0) when a CUDA device is present, else the
/// simulated GPU). Engine.Tests.Gpu binds the same tables to its device in its own test host; this switch runs them
/// beside the CPU in this one.
/// </summary>
public static class TestDevices
{
    public static IEnumerable<Device> Built()
    {
        yield return Device.Cpu;
        if (Environment.GetEnvironmentVariable("ENGINE_TEST_DEVICES") != "all") yield break;
        foreach (var backend in BackendRegistry.All)
        {
            if (backend.DeviceKinds[0] == DeviceKind.Cpu) continue;
            foreach (var kind in backend.DeviceKinds)
            {
                if (!Usable(new Device(kind, 0))) continue;
                yield return new Device(kind, 0);
                break;
            }
        }
    }

    private static bool Usable(Device device)
    {
        try
        {
            Engine.Kernels.DeviceRuntime.For(device);
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
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

    /// <summary>
    /// Whether the device is the simulated GPU (one OS thread per GPU thread), where tables keep to small shapes:
    /// at most about 16K elements per array and GEMMs up to 129 (see docs/gpu.md).
    /// </summary>
    protected bool Simulated => Device.Kind == DeviceKind.GpuSimulator;

    /// <summary>Skips a test of the CPU backend alone (how it splits work over threads) on other devices.</summary>
    protected void RequireCpu(string what)
    {
        if (Device.Kind != DeviceKind.Cpu) Assert.Ignore($"{what} is a property of the CPU backend alone");
    }

    [SetUp]
    public void UseDevice() => scope = DefaultDevice.Use(Device);

    [TearDown]
    public void RestoreDevice() => scope?.Dispose();
}
