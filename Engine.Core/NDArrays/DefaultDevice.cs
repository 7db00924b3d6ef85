namespace Engine;

/// <summary>The device new arrays go to when none is given: Device.Cpu unless a scope says otherwise.</summary>
public static class DefaultDevice
{
    private static readonly AsyncLocal<Device?> current = new();

    public static Device Current => current.Value ?? Device.Cpu;

    /// <summary><c>using (DefaultDevice.Use(Device.Cuda(0))) { ... }</c></summary>
    public static IDisposable Use(Device device)
    {
        var previous = current.Value;
        current.Value = device;
        return new Restore(() => current.Value = previous);
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? action = action;

        public void Dispose()
        {
            action?.Invoke();
            action = null;
        }
    }
}
