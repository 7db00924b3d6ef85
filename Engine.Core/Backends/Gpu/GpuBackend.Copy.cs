using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterCopy()
    {
        // Every dtype pair on the device (float16 through its bits, int8, bool and float16 through double).
        Register(CopyOps.Cast, static (_, c, i, o) => GpuLayout.Cast(Runtime(c), c.Contiguous(i[0]), o[0]));
        Register(CopyOps.Full, static (a, c, _, o) => Fill(c, a.Value, o[0]));
    }

    /// <summary>Fills any layout: a dense output directly, a strided one from a broadcast single element.</summary>
    private static void Fill(KernelContext context, double value, in TensorArg y)
    {
        if (y.IsContiguous)
        {
            FillDense(Runtime(context), value, y);
            return;
        }
        var one = new TensorArg(context.Scratch(y.DType.SizeInBytes()), TensorLayout.Contiguous(new Shape(1)), y.DType);
        FillDense(Runtime(context), value, one);
        context.Runtime.Copy(one.WithLayout(new TensorLayout(y.Shape, new long[y.Shape.Rank], 0)), y);
    }

    private static void FillDense(GpuRuntime runtime, double value, in TensorArg a)
    {
        // int8, bool and float16 are filled with their bit patterns through an integer of their width.
        switch (a.DType)
        {
            case DType.Float32: GpuLayout.Fill(runtime, a, (float)value); break;
            case DType.Float64: GpuLayout.Fill(runtime, a, value); break;
            case DType.Int32: GpuLayout.Fill(runtime, a, (int)value); break;
            case DType.Int64: GpuLayout.Fill(runtime, a, (long)value); break;
            case DType.UInt8: GpuLayout.Fill(runtime, a, (byte)value); break;
            case DType.Int8: GpuLayout.FillBits(runtime, a, unchecked((byte)(sbyte)value)); break;
            case DType.Bool: GpuLayout.FillBits(runtime, a, value != 0 ? (byte)1 : (byte)0); break;
            case DType.Float16: GpuLayout.FillBits(runtime, a, BitConverter.HalfToInt16Bits((Half)value)); break;
            default: throw new NotSupportedException($"full: dtype {a.DType.Name()} is not supported.");
        }
    }
}
