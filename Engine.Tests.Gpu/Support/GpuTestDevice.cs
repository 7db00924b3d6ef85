namespace Engine.Tests.Gpu;

/// <summary>
/// The device the GPU suite runs on: ENGINE_TEST_GPU (cuda:0, gpusim, opencl:0) when set, else the simulated GPU.
/// The one place the suite reads the environment.
/// </summary>
public static class GpuTestDevice
{
    public static Device Device { get; } =
        Environment.GetEnvironmentVariable("ENGINE_TEST_GPU") is { Length: > 0 } name
            ? Device.Parse(name)
            : Device.GpuSimulator(0);
}
