using Engine.Memory;

namespace Engine.Kernels;

/// <summary>
/// What a kernel sees of one tensor: the device buffer, the layout of the elements in it (shape, strides and offset
/// in elements) and the element type. No ownership, no autograd: backends of every device kind take the same
/// argument, and the graph executor builds it over planned buffers exactly as eager execution does over arrays.
/// </summary>
public readonly struct TensorArg
{
    public TensorArg(DeviceBuffer buffer, TensorLayout layout, DType dtype)
    {
        Buffer = buffer;
        Layout = layout;
        DType = dtype;
    }

    public DeviceBuffer Buffer { get; }

    public TensorLayout Layout { get; }

    public DType DType { get; }

    public Shape Shape => Layout.Shape;

    public long Size => Layout.Shape.Size;

    public long Offset => Layout.Offset;

    public bool IsContiguous => Layout.IsContiguous;

    public Device Device => Buffer.Device;

    /// <summary>The same buffer seen through another layout (a broadcast or reshaped view).</summary>
    public TensorArg WithLayout(TensorLayout layout) => new(Buffer, layout, DType);

    public override string ToString() => $"{DType.Name()}{Shape} on {Device}";
}
