using Engine.Kernels;

namespace Engine;

public sealed partial class NDArray
{
    /// <summary>
    /// A copy of this array on <paramref name="device"/> (a contiguous copy when it is this array's device), as
    /// MXNet's <c>copyto</c> / <c>as_in_context</c>. Recorded by autograd when on the same device.
    /// </summary>
    public NDArray CopyTo(Device device)
    {
        ThrowIfNoData();
        if (device == Device) return Nd.Copy(this);
        var source = IsContiguous ? this : Nd.Copy(this);
        try
        {
            var host = new byte[checked(Size * DType.SizeInBytes())];
            DeviceRuntime.For(Device).CopyToHost(source.Storage.Buffer, source.Offset * DType.SizeInBytes(), host);
            var result = Empty(Shape, DType, device);
            DeviceRuntime.For(device).CopyFromHost(host, result.Storage.Buffer, 0);
            return result;
        }
        finally
        {
            if (!ReferenceEquals(source, this)) source.Dispose();
        }
    }
}
