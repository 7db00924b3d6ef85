using Engine.Kernels;
using Engine.Memory;

namespace Engine;

/// <summary>
/// The buffer behind one or more NDArray views. Each view holds a reference; the buffer goes back to its pool when
/// the last view is disposed, or, as a safety net, when the buffer itself is finalized.
/// </summary>
internal sealed class Storage
{
    private int references = 1;

    public Storage(DeviceBuffer buffer) => Buffer = buffer;

    public DeviceBuffer Buffer { get; private set; }

    /// <summary>Whether exactly one view refers to this storage.</summary>
    public bool HasOneView => Volatile.Read(ref references) == 1;

    /// <summary>
    /// Exchanges the buffers of two storages of the same size and device, each with a single view: the cheap way to
    /// move a freshly computed result into an array that must keep its identity (a parameter's gradient). False,
    /// with nothing changed, when they do not qualify.
    /// </summary>
    public bool TrySwapBuffers(Storage other)
    {
        if (!HasOneView || !other.HasOneView || Buffer.Bytes != other.Buffer.Bytes || Device != other.Device)
            return false;
        (Buffer, other.Buffer) = (other.Buffer, Buffer);
        return true;
    }

    public Device Device => Buffer.Device;

    public bool IsReleased => Buffer.IsDisposed;

    /// <summary>Bumped by every write through an operator; autograd uses it to catch in-place writes.</summary>
    public int Version;

    public static Storage Allocate(Device device, long bytes) => new(DeviceRuntime.For(device).Allocate(bytes));

    public void AddReference() => Interlocked.Increment(ref references);

    public void Release()
    {
        if (Interlocked.Decrement(ref references) == 0) Buffer.Dispose();
    }
}
