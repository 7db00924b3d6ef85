using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Memory;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterLayout()
    {
        Register(LayoutOps.Take, static (a, c, i, o) =>
        {
            var data = c.Contiguous(i[0]);
            using var owned = new OwnedBuffers();
            var indices = Indices(c, i[1], "take", owned.List);
            var rt = Runtime(c);
            var y = o[0];
            switch (data.DType.SizeInBytes())
            {
                case 1: TakeBits<byte>(rt, data, indices, a, y, DType.UInt8); break;
                case 2: TakeBits<ushort>(rt, data, indices, a, y, DType.Float16); break;
                case 4: TakeBits<int>(rt, data, indices, a, y, DType.Int32); break;
                default: TakeBits<long>(rt, data, indices, a, y, DType.Int64); break;
            }
        });
        Register(LayoutOps.TakeBackward, static (a, c, i, o) =>
        {
            var dy = c.Contiguous(i[0]);
            using var owned = new OwnedBuffers();
            var indices = Indices(c, i[1], "take", owned.List);
            var shape = a.DataShape.ToShape();
            int axis = shape.NormalizeAxis(a.Take.Axis, "take");
            if (dy.DType == DType.Float32)
                GpuLayout.TakeBackward<float>(Runtime(c), dy, indices, axis, a.Take.Mode, o[0]);
            else
                GpuLayout.TakeBackward<double>(Runtime(c), dy, indices, axis, a.Take.Mode, o[0]);
        });
        Register(LayoutOps.OneHot, static (a, c, i, o) =>
        {
            using var owned = new OwnedBuffers();
            var idx = Indices(c, i[0], "one_hot", owned.List);
            var y = o[0];
            var rt = Runtime(c);
            switch (a.DType)
            {
                case DType.Float32: GpuLayout.OneHot(rt, idx, a.Depth, (float)a.OnValue, (float)a.OffValue, y); break;
                case DType.Float64: GpuLayout.OneHot(rt, idx, a.Depth, a.OnValue, a.OffValue, y); break;
                case DType.Int32: GpuLayout.OneHot(rt, idx, a.Depth, (int)a.OnValue, (int)a.OffValue, y); break;
                case DType.Int64: GpuLayout.OneHot(rt, idx, a.Depth, (long)a.OnValue, (long)a.OffValue, y); break;
                default: throw new ArgumentException($"one_hot: output dtype {a.DType.Name()} is not supported.");
            }
        });
        Register(LayoutOps.Pad, static (a, c, i, o) =>
        {
            var x = c.Contiguous(i[0]);
            var y = o[0];
            var rt = Runtime(c);
            switch (x.DType)
            {
                case DType.Float32: GpuLayout.Pad(rt, x, a.Before, a.After, a.Mode, (float)a.Value, y); break;
                case DType.Float64: GpuLayout.Pad(rt, x, a.Before, a.After, a.Mode, a.Value, y); break;
                case DType.Int32: GpuLayout.Pad(rt, x, a.Before, a.After, a.Mode, (int)a.Value, y); break;
                case DType.Int64: GpuLayout.Pad(rt, x, a.Before, a.After, a.Mode, (long)a.Value, y); break;
                default: throw new ArgumentException($"pad: dtype {x.DType.Name()} is not supported.");
            }
        });
        Register(LayoutOps.PadBackward, static (a, c, i, o) =>
        {
            var dy = c.Contiguous(i[0]);
            var y = o[0];
            if (dy.DType == DType.Float32)
                GpuLayout.PadBackward<float>(Runtime(c), dy, a.Before, a.After, a.Mode, y);
            else
                GpuLayout.PadBackward<double>(Runtime(c), dy, a.Before, a.After, a.Mode, y);
        });
        Register(ViewOps.SliceAxisBackward, static (a, c, i, o) =>
        {
            var y = o[0];
            FillDense(Runtime(c), 0, y);
            var (axis, start, _) = ViewOps.ResolveSlice(y.Shape, a.Slice);
            var strides = y.Shape.ContiguousStrides();
            long offset = y.Offset + start * strides[axis];
            strides[axis] *= a.Slice.Step;
            c.Runtime.Copy(i[0], y.WithLayout(new TensorLayout(i[0].Shape, strides, offset)));
        });
    }

    /// <summary>Device buffers a kernel holds until it has launched its work.</summary>
    private sealed class OwnedBuffers : IDisposable
    {
        public List<DeviceBuffer> List { get; } = new();

        public void Dispose()
        {
            foreach (var b in List) b.Dispose();
        }
    }

    /// <summary>Take moves elements, so any dtype goes through an integer type of its width.</summary>
    private static void TakeBits<T>(GpuRuntime rt, in TensorArg data, in TensorArg indices, TakeAttrs a,
        in TensorArg y, DType bits) where T : unmanaged
    {
        int axis = data.Shape.NormalizeAxis(a.Axis, "take");
        GpuLayout.Take<T>(rt, new TensorArg(data.Buffer, data.Layout, bits), indices, axis, a.Mode,
            new TensorArg(y.Buffer, y.Layout, bits));
    }
}
