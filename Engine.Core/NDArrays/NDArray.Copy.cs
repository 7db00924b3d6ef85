namespace Engine;

public sealed partial class NDArray
{
    /// <summary>
    /// A contiguous copy of this array on <paramref name="device"/> (MXNet's <c>copyto(ctx)</c> and
    /// <c>as_in_context</c>), also when the device is this array's own. The copy is not recorded by autograd: it
    /// starts a new graph, as a detached array does.
    /// </summary>
    public NDArray CopyTo(Device device)
    {
        ThrowIfDisposed();
        var runtime = Kernels.DeviceRuntime.For(device);     // says why a device cannot be used
        if (runtime.Device.Kind != Device.Kind)
            throw new NotSupportedException(
                $"CopyTo: copies between {Device} and {device} are not supported in this build; only copies " +
                "between CPU devices are.");
        var copy = Empty(Shape, DType, device);
        Ops.CopyOps.CopyKernel(this, copy);
        return copy;
    }
}
