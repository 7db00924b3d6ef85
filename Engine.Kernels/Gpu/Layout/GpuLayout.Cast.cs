using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>A conversion between element types for GPU kernels (generic math conversions test types inside,
/// which ILGPU cannot compile, so each pair is its own struct).</summary>
public interface IGpuConverter<TFrom, TTo> where TFrom : unmanaged where TTo : unmanaged
{
    TTo Convert(TFrom x);
}

/// <summary>
/// Casts between float32, float64, int32, int64 and uint8 with the CPU's rules (C# conversions: floating to
/// integer truncates toward zero and saturates, NaN gives 0; wider to narrower integers wrap); casts from or to
/// int8, bool and float16 go through double (GpuLayout.CastVia.cs), as on the CPU.
/// </summary>
public static partial class GpuLayout
{
    /// <summary>destination = (TTo)source elementwise; both contiguous, same shape.</summary>
    public static void Cast(GpuRuntime runtime, in TensorArg source, in TensorArg destination)
    {
        if (source.Shape != destination.Shape)
            throw new ArgumentException($"cast: source {source} and destination {destination} must have one shape.");
        if (source.DType == destination.DType)
        {
            Copy(runtime, source, destination);
            return;
        }
        if (ThroughDouble(source.DType, destination.DType))
        {
            CastThroughDouble(runtime, source, destination);
            return;
        }
        CastRunner run = (source.DType, destination.DType) switch
        {
            (DType.Float32, DType.Float64) => Run<float, double, FloatToDouble>,
            (DType.Float32, DType.Int32) => Run<float, int, FloatToInt>,
            (DType.Float32, DType.Int64) => Run<float, long, FloatToLong>,
            (DType.Float32, DType.UInt8) => Run<float, byte, FloatToByte>,
            (DType.Float64, DType.Float32) => Run<double, float, DoubleToFloat>,
            (DType.Float64, DType.Int32) => Run<double, int, DoubleToInt>,
            (DType.Float64, DType.Int64) => Run<double, long, DoubleToLong>,
            (DType.Float64, DType.UInt8) => Run<double, byte, DoubleToByte>,
            (DType.Int32, DType.Float32) => Run<int, float, IntToFloat>,
            (DType.Int32, DType.Float64) => Run<int, double, IntToDouble>,
            (DType.Int32, DType.Int64) => Run<int, long, IntToLong>,
            (DType.Int32, DType.UInt8) => Run<int, byte, IntToByte>,
            (DType.Int64, DType.Float32) => Run<long, float, LongToFloat>,
            (DType.Int64, DType.Float64) => Run<long, double, LongToDouble>,
            (DType.Int64, DType.Int32) => Run<long, int, LongToInt>,
            (DType.Int64, DType.UInt8) => Run<long, byte, LongToByte>,
            (DType.UInt8, DType.Float32) => Run<byte, float, ByteToFloat>,
            (DType.UInt8, DType.Float64) => Run<byte, double, ByteToDouble>,
            (DType.UInt8, DType.Int32) => Run<byte, int, ByteToInt>,
            (DType.UInt8, DType.Int64) => Run<byte, long, ByteToLong>,
            _ => throw UnsupportedCast(source.DType, destination.DType),
        };
        run(runtime, source, destination);
    }

    private delegate void CastRunner(GpuRuntime runtime, in TensorArg source, in TensorArg destination);

    private static void Run<TFrom, TTo, TC>(GpuRuntime rt, in TensorArg source, in TensorArg destination)
        where TFrom : unmanaged where TTo : unmanaged where TC : struct, IGpuConverter<TFrom, TTo>
    {
        var src = source.Elements<TFrom>(rt, "cast");
        var dst = destination.Elements<TTo>(rt, "cast");
        int n = (int)source.Size;
        if (n == 0) return;
        rt.Kernels.Load<ArrayView<TFrom>, ArrayView<TTo>, TC, int>(CastKernel<TFrom, TTo, TC>)(rt.Stream,
            rt.GridStride(n), src, dst, default, n);
    }

    private static void CastKernel<TFrom, TTo, TC>(ArrayView<TFrom> src, ArrayView<TTo> dst, TC c, int n)
        where TFrom : unmanaged where TTo : unmanaged where TC : struct, IGpuConverter<TFrom, TTo>
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) dst[i] = c.Convert(src[i]);
    }

    // Floating to integer, truncating toward zero, saturating at the limits, NaN to 0: .NET's conversions, written
    // out because backends differ where the value does not fit (the simulator wrapped -1f to byte 255).
    private static int ToInt(double x) =>
        double.IsNaN(x) ? 0 : x >= int.MaxValue ? int.MaxValue : x <= int.MinValue ? int.MinValue : (int)x;

    private static long ToLong(double x) => double.IsNaN(x) ? 0
        : x >= 9223372036854775807.0 ? long.MaxValue : x <= -9223372036854775808.0 ? long.MinValue : (long)x;

    private static byte ToByte(double x) =>
        double.IsNaN(x) || x <= 0 ? (byte)0 : x >= 255 ? byte.MaxValue : (byte)(int)x;

    public readonly struct FloatToDouble : IGpuConverter<float, double> { public double Convert(float x) => (double)x; }
    public readonly struct FloatToInt : IGpuConverter<float, int> { public int Convert(float x) => ToInt(x); }
    public readonly struct FloatToLong : IGpuConverter<float, long> { public long Convert(float x) => ToLong(x); }
    public readonly struct FloatToByte : IGpuConverter<float, byte> { public byte Convert(float x) => ToByte(x); }
    public readonly struct DoubleToFloat : IGpuConverter<double, float> { public float Convert(double x) => (float)x; }
    public readonly struct DoubleToInt : IGpuConverter<double, int> { public int Convert(double x) => ToInt(x); }
    public readonly struct DoubleToLong : IGpuConverter<double, long> { public long Convert(double x) => ToLong(x); }
    public readonly struct DoubleToByte : IGpuConverter<double, byte> { public byte Convert(double x) => ToByte(x); }
    public readonly struct IntToFloat : IGpuConverter<int, float> { public float Convert(int x) => (float)x; }
    public readonly struct IntToDouble : IGpuConverter<int, double> { public double Convert(int x) => (double)x; }
    public readonly struct IntToLong : IGpuConverter<int, long> { public long Convert(int x) => (long)x; }
    public readonly struct IntToByte : IGpuConverter<int, byte> { public byte Convert(int x) => (byte)x; }
    public readonly struct LongToFloat : IGpuConverter<long, float> { public float Convert(long x) => (float)x; }
    public readonly struct LongToDouble : IGpuConverter<long, double> { public double Convert(long x) => (double)x; }
    public readonly struct LongToInt : IGpuConverter<long, int> { public int Convert(long x) => (int)x; }
    public readonly struct LongToByte : IGpuConverter<long, byte> { public byte Convert(long x) => (byte)x; }
    public readonly struct ByteToFloat : IGpuConverter<byte, float> { public float Convert(byte x) => (float)x; }
    public readonly struct ByteToDouble : IGpuConverter<byte, double> { public double Convert(byte x) => (double)x; }
    public readonly struct ByteToInt : IGpuConverter<byte, int> { public int Convert(byte x) => (int)x; }
    public readonly struct ByteToLong : IGpuConverter<byte, long> { public long Convert(byte x) => (long)x; }

}
