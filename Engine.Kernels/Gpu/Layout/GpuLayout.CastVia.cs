using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Casts from or to int8, bool and float16 with the CPU's rule for them: every such cast goes through double (read
/// the value as double, write it to the destination type). int8 and uint8 take the low bits of the value
/// saturated to int32 (NaN gives 0), as .NET's (sbyte)double does; bool is value != 0 (NaN is true); float16 is
/// converted on its 16-bit pattern (ILGPU cannot compile System.Half arithmetic): half to double exactly, double to
/// half rounded to nearest even, as System.Half does.
/// </summary>
public static partial class GpuLayout
{
    /// <summary>Whether a cast between these dtypes takes the path through double.</summary>
    private static bool ThroughDouble(DType from, DType to) => IsBitType(from) || IsBitType(to);

    private static bool IsBitType(DType t) => t is DType.Int8 or DType.Bool or DType.Float16;

    private static void CastThroughDouble(GpuRuntime rt, in TensorArg source, in TensorArg destination)
    {
        switch (source.DType)
        {
            case DType.Float32: CastFrom<float, FloatToDouble>(rt, source, destination); break;
            case DType.Float64: CastFrom<double, DoubleToDouble>(rt, source, destination); break;
            case DType.Int32: CastFrom<int, IntToDouble>(rt, source, destination); break;
            case DType.Int64: CastFrom<long, LongToDouble>(rt, source, destination); break;
            case DType.UInt8: CastFrom<byte, ByteToDouble>(rt, source, destination); break;
            case DType.Int8: CastFrom<sbyte, SByteToDouble>(rt, source, destination); break;
            case DType.Bool: CastFrom<byte, BoolToDouble>(rt, source, destination); break;
            case DType.Float16: CastFrom<ushort, HalfToDouble>(rt, source, destination); break;
            default: throw UnsupportedCast(source.DType, destination.DType);
        }
    }

    private static void CastFrom<TFrom, TRead>(GpuRuntime rt, in TensorArg source, in TensorArg destination)
        where TFrom : unmanaged where TRead : struct, IGpuConverter<TFrom, double>
    {
        switch (destination.DType)
        {
            case DType.Float32: RunVia<TFrom, float, TRead, DoubleToFloat>(rt, source, destination); break;
            case DType.Float64: RunVia<TFrom, double, TRead, DoubleToDouble>(rt, source, destination); break;
            case DType.Int32: RunVia<TFrom, int, TRead, DoubleToInt>(rt, source, destination); break;
            case DType.Int64: RunVia<TFrom, long, TRead, DoubleToLong>(rt, source, destination); break;
            case DType.UInt8: RunVia<TFrom, byte, TRead, DoubleToByteBits>(rt, source, destination); break;
            case DType.Int8: RunVia<TFrom, sbyte, TRead, DoubleToSByte>(rt, source, destination); break;
            case DType.Bool: RunVia<TFrom, byte, TRead, DoubleToBool>(rt, source, destination); break;
            case DType.Float16: RunVia<TFrom, ushort, TRead, DoubleToHalf>(rt, source, destination); break;
            default: throw UnsupportedCast(source.DType, destination.DType);
        }
    }

    private static ArgumentException UnsupportedCast(DType from, DType to) => new(
        $"cast: {from.Name()} to {to.Name()} is not supported on the GPU; use float32, float64, float16, int32, " +
        "int64, int8, uint8 or bool.");

    private static void RunVia<TFrom, TTo, TRead, TWrite>(GpuRuntime rt, in TensorArg source,
        in TensorArg destination) where TFrom : unmanaged where TTo : unmanaged
        where TRead : struct, IGpuConverter<TFrom, double> where TWrite : struct, IGpuConverter<double, TTo>
    {
        // Bool and float16 have no .NET element type of their own here: their bits are read as byte and ushort.
        var src = source.ElementBits<TFrom>(rt, "cast");
        var dst = destination.ElementBits<TTo>(rt, "cast");
        int n = (int)source.Size;
        if (n == 0) return;
        rt.Kernels.Load<ArrayView<TFrom>, ArrayView<TTo>, TRead, TWrite, int>(CastViaKernel<TFrom, TTo, TRead,
            TWrite>)(rt.Stream, rt.GridStride(n), src, dst, default, default, n);
    }

    private static void CastViaKernel<TFrom, TTo, TRead, TWrite>(ArrayView<TFrom> src, ArrayView<TTo> dst,
        TRead read, TWrite write, int n) where TFrom : unmanaged where TTo : unmanaged
        where TRead : struct, IGpuConverter<TFrom, double> where TWrite : struct, IGpuConverter<double, TTo>
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
            dst[i] = write.Convert(read.Convert(src[i]));
    }

    public readonly struct DoubleToDouble : IGpuConverter<double, double> { public double Convert(double x) => x; }
    public readonly struct SByteToDouble : IGpuConverter<sbyte, double> { public double Convert(sbyte x) => x; }
    public readonly struct BoolToDouble : IGpuConverter<byte, double>
    {
        public double Convert(byte x) => x != 0 ? 1 : 0;
    }

    public readonly struct HalfToDouble : IGpuConverter<ushort, double>
    {
        public double Convert(ushort x) => HalfBits.ToDouble(x);
    }

    /// <summary>.NET's (sbyte)double: saturated to int32 (NaN to 0), then the low 8 bits (300.0 gives 44).
    /// </summary>
    public readonly struct DoubleToSByte : IGpuConverter<double, sbyte>
    {
        public sbyte Convert(double x) => (sbyte)ToInt(x);
    }

    /// <summary>.NET's (byte)double: saturated to int32 (NaN to 0), then the low 8 bits (-1.0 gives 255).</summary>
    public readonly struct DoubleToByteBits : IGpuConverter<double, byte>
    {
        public byte Convert(double x) => (byte)ToInt(x);
    }

    public readonly struct DoubleToBool : IGpuConverter<double, byte>
    {
        public byte Convert(double x) => x != 0 ? (byte)1 : (byte)0;
    }

    public readonly struct DoubleToHalf : IGpuConverter<double, ushort>
    {
        public ushort Convert(double x) => HalfBits.FromDouble(x);
    }
}
