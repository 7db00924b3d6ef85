using Engine.Memory;

namespace Engine;

/// <summary>The buffer of a shape-only array: no memory at all.</summary>
internal sealed class NoDataBuffer(Device device) : DeviceBuffer(device, 0)
{
    protected override void ReleaseCore() { }
}
