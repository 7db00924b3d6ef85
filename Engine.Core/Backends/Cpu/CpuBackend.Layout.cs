using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterLayout()
    {
        Register(LayoutOps.Take, static (a, c, i, o) =>
        {
            var data = c.Contiguous(i[0]);
            var indices = Indices(c, i[1], "take");
            int axis = data.Shape.NormalizeAxis(a.Axis, "take");
            var y = o[0];
            switch (data.DType.SizeInBytes())
            {
                case 1: CpuLayout.Take<byte>(data.Raw<byte>(), data.Shape, indices, axis, a.Mode, y.Raw<byte>()); break;
                case 2:
                    CpuLayout.Take<short>(data.Raw<short>(), data.Shape, indices, axis, a.Mode, y.Raw<short>());
                    break;
                case 4: CpuLayout.Take<int>(data.Raw<int>(), data.Shape, indices, axis, a.Mode, y.Raw<int>()); break;
                default:
                    CpuLayout.Take<long>(data.Raw<long>(), data.Shape, indices, axis, a.Mode, y.Raw<long>());
                    break;
            }
        });
        Register(LayoutOps.TakeBackward, static (a, c, i, o) =>
        {
            var dy = c.Contiguous(i[0]);
            var indices = Indices(c, i[1], "take");
            var shape = a.DataShape.ToShape();
            int axis = shape.NormalizeAxis(a.Take.Axis, "take");
            if (dy.DType == DType.Float32)
                CpuLayout.TakeBackward(dy.Span<float>(), indices, shape, axis, a.Take.Mode, o[0].Span<float>());
            else
                CpuLayout.TakeBackward(dy.Span<double>(), indices, shape, axis, a.Take.Mode, o[0].Span<double>());
        });
        Register(LayoutOps.OneHot, static (a, c, i, o) =>
        {
            var idx = Indices(c, i[0], "one_hot");
            var y = o[0];
            switch (a.DType)
            {
                case DType.Float32:
                    CpuLayout.OneHot(idx, a.Depth, (float)a.OnValue, (float)a.OffValue, y.Span<float>());
                    break;
                case DType.Float64: CpuLayout.OneHot(idx, a.Depth, a.OnValue, a.OffValue, y.Span<double>()); break;
                case DType.Int32: CpuLayout.OneHot(idx, a.Depth, (int)a.OnValue, (int)a.OffValue, y.Span<int>()); break;
                case DType.Int64:
                    CpuLayout.OneHot(idx, a.Depth, (long)a.OnValue, (long)a.OffValue, y.Span<long>());
                    break;
                default: throw new ArgumentException($"one_hot: output dtype {a.DType.Name()} is not supported.");
            }
        });
        Register(LayoutOps.Pad, static (a, c, i, o) =>
        {
            var x = c.Contiguous(i[0]);
            var y = o[0];
            switch (x.DType)
            {
                case DType.Float32:
                    CpuLayout.Pad(x.Span<float>(), x.Shape, a.Before, a.After, a.Mode, (float)a.Value, y.Span<float>());
                    break;
                case DType.Float64:
                    CpuLayout.Pad(x.Span<double>(), x.Shape, a.Before, a.After, a.Mode, a.Value, y.Span<double>());
                    break;
                case DType.Int32:
                    CpuLayout.Pad(x.Span<int>(), x.Shape, a.Before, a.After, a.Mode, (int)a.Value, y.Span<int>());
                    break;
                case DType.Int64:
                    CpuLayout.Pad(x.Span<long>(), x.Shape, a.Before, a.After, a.Mode, (long)a.Value, y.Span<long>());
                    break;
                default: throw new ArgumentException($"pad: dtype {x.DType.Name()} is not supported.");
            }
        });
        Register(LayoutOps.PadBackward, static (a, c, i, o) =>
        {
            var dy = c.Contiguous(i[0]);
            var y = o[0];
            if (dy.DType == DType.Float32)
                CpuLayout.PadBackward(dy.Span<float>(), y.Shape, a.Before, a.After, a.Mode, y.Span<float>());
            else
                CpuLayout.PadBackward(dy.Span<double>(), y.Shape, a.Before, a.After, a.Mode, y.Span<double>());
        });
        Register(ViewOps.SliceAxisBackward, static (a, c, i, o) =>
        {
            var y = o[0];
            FillDense(0, y);
            var (axis, start, _) = ViewOps.ResolveSlice(y.Shape, a.Slice);
            var strides = y.Shape.ContiguousStrides();
            long offset = y.Offset + start * strides[axis];
            strides[axis] *= a.Slice.Step;
            c.Runtime.Copy(i[0], y.WithLayout(new TensorLayout(i[0].Shape, strides, offset)));
        });
    }
}
