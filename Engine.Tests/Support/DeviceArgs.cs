using System.Runtime.InteropServices;
using Engine.Kernels;
using Engine.Memory;

namespace Engine.Tests.Support;

/// <summary>
/// Host arrays as kernel arguments on a device, for the kernel-level tables when they run on a GPU: each array is
/// uploaded once (the same array twice is the same argument, so in-place calls stay in place), and
/// <see cref="ReadBack"/> copies every argument back into its array after the kernel.
/// </summary>
public sealed class DeviceArgs(Device device) : IDisposable
{
    private readonly List<(Array Host, TensorArg Arg, Action<TensorArg> Read)> args = [];

    public DeviceRuntime Runtime { get; } = DeviceRuntime.For(device);

    public TensorArg Arg<T>(T[] values) where T : unmanaged
    {
        foreach (var a in args)
            if (ReferenceEquals(a.Host, values)) return a.Arg;
        var buffer = Runtime.Allocate(Math.Max(1, values.Length) * Marshal.SizeOf<T>());
        var arg = new TensorArg(buffer, TensorLayout.Contiguous(new Shape(values.Length)), DTypeExtensions.Of<T>());
        Runtime.CopyFromHost(MemoryMarshal.AsBytes(values.AsSpan()), buffer, 0);
        args.Add((values, arg, a => Runtime.CopyToHost(a.Buffer, 0, MemoryMarshal.AsBytes(values.AsSpan()))));
        return arg;
    }

    /// <summary>Waits for the device and copies every argument back into its host array.</summary>
    public void ReadBack()
    {
        Runtime.Synchronize();
        foreach (var (_, arg, read) in args) read(arg);
    }

    public void Dispose()
    {
        foreach (var (_, arg, _) in args) arg.Buffer.Dispose();
        args.Clear();
    }
}
