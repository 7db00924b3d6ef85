using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using Engine.Ops;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Casts from and to float16, int8 and bool on the device: every half value and the rounding boundaries between
/// them against System.Half on the CPU, bit for bit, and every dtype pair against the CPU backend; float64 random
/// numbers on the device against the CPU's Philox streams, also into a strided output.
/// </summary>
public sealed class CastAndRandomTests : GpuFixture
{
    private static readonly DType[] AllTypes =
        [DType.Float32, DType.Float64, DType.Float16, DType.Int32, DType.Int64, DType.UInt8, DType.Int8, DType.Bool];

    /// <summary>The new kernels, compiled to PTX for sm_90 whether or not a test runs them.</summary>
    public static IEnumerable<TestCaseData> Kernels()
    {
        yield return Kernel(typeof(GpuRandom), "UniformKernel64");
        yield return Kernel(typeof(GpuRandom), "NormalKernel64");
        yield return Kernel(typeof(GpuLayout), "CastViaKernel", typeof(ushort), typeof(double),
            typeof(GpuLayout.HalfToDouble), typeof(GpuLayout.DoubleToDouble));
        yield return Kernel(typeof(GpuLayout), "CastViaKernel", typeof(double), typeof(ushort),
            typeof(GpuLayout.DoubleToDouble), typeof(GpuLayout.DoubleToHalf));
        yield return Kernel(typeof(GpuLayout), "CastViaKernel", typeof(float), typeof(sbyte),
            typeof(GpuLayout.FloatToDouble), typeof(GpuLayout.DoubleToSByte));
        yield return Kernel(typeof(GpuLayout), "CastViaKernel", typeof(byte), typeof(byte),
            typeof(GpuLayout.BoolToDouble), typeof(GpuLayout.DoubleToByteBits));
        yield return Kernel(typeof(GpuLayout), "CastKernel", typeof(float), typeof(byte),
            typeof(GpuLayout.FloatToByte));
    }

    private static TestCaseData Kernel(Type type, string name, params Type[] arguments) =>
        new TestCaseData(type, name, arguments).SetArgDisplayNames(
            $"{type.Name}.{name}" + (arguments.Length > 0 ? $"[{string.Join(", ", arguments.Select(a => a.Name))}]"
                : ""));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtxForSm90(Type type, string name, Type[] arguments)
    {
        var kernel = type.GetMethod(name, System.Reflection.BindingFlags.NonPublic |
            System.Reflection.BindingFlags.Static)!;
        if (arguments.Length > 0) kernel = kernel.MakeGenericMethod(arguments);
        GpuPtxCheck.Verify(kernel);
        GpuPtxCheck.Compiled.Keys.ShouldContain(GpuPtxCheck.Describe(kernel));
    }

    private static Half[] AllHalves() =>
        Enumerable.Range(0, 1 << 16).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).ToArray();

    [Test]
    public void HalfBitsMatchSystemHalfOnTheHost()
    {
        // Messages are built only for a mismatch: these loops run over hundreds of thousands of values.
        foreach (var h in AllHalves())
        {
            ushort bits = BitConverter.HalfToUInt16Bits(h);
            if (BitConverter.DoubleToUInt64Bits(HalfBits.ToDouble(bits)) != BitConverter.DoubleToUInt64Bits((double)h))
                Assert.Fail($"half {bits:x4} to double is {HalfBits.ToDouble(bits):R}, System.Half gives " +
                    $"{(double)h:R}");
        }
        foreach (double v in BoundaryDoubles())
            if (HalfBits.FromDouble(v) != BitConverter.HalfToUInt16Bits((Half)v))
                Assert.Fail($"{v:R} to half is {HalfBits.FromDouble(v):x4}, System.Half gives " +
                    $"{BitConverter.HalfToUInt16Bits((Half)v):x4}");
    }

    [Test]
    public void EveryHalfValueConvertsToFloat32AndFloat64AsSystemHalfDoes()
    {
        var halves = AllHalves();
        var shape = new Shape(halves.Length);
        var source = Upload(Gpu, halves, shape);
        var f = Empty<float>(Gpu, shape);
        GpuLayout.Cast(Gpu, source, f);
        var d = Empty<double>(Gpu, shape);
        GpuLayout.Cast(Gpu, source, d);
        var fs = Download<float>(f);
        var ds = Download<double>(d);
        for (int i = 0; i < halves.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(fs[i]) != BitConverter.SingleToUInt32Bits((float)(double)halves[i]))
                Assert.Fail($"half {i:x4} to float32 is {fs[i]:R}, System.Half gives {(float)halves[i]:R}");
            if (BitConverter.DoubleToUInt64Bits(ds[i]) != BitConverter.DoubleToUInt64Bits((double)halves[i]))
                Assert.Fail($"half {i:x4} to float64 is {ds[i]:R}, System.Half gives {(double)halves[i]:R}");
        }
    }

    /// <summary>Every finite half, the midpoints between neighbours (ties to even) and the doubles next to them,
    /// subnormals, overflow, infinities and NaNs with payloads.</summary>
    private static IEnumerable<double> BoundaryDoubles()
    {
        var rng = new Random(5);
        for (int i = 0; i < 0x7C00; i++)
        {
            double v = (double)BitConverter.UInt16BitsToHalf((ushort)i);
            double next = (double)BitConverter.UInt16BitsToHalf((ushort)(i + 1));
            double mid = (v + next) / 2;
            foreach (double w in new[] { v, mid, Math.BitDecrement(mid), Math.BitIncrement(mid),
                         (double)(float)Math.BitIncrement(mid), v + (next - v) * rng.NextDouble() })
            {
                yield return w;
                yield return -w;
            }
        }
        foreach (double w in new[] { 65504.0, 65519.99, 65520.0, 65536.0, 1e300, double.Epsilon, 1e-30,
                     2.9802322387695312e-8, double.PositiveInfinity, double.NegativeInfinity, double.NaN, -double.NaN,
                     BitConverter.UInt64BitsToDouble(0x7FF0_0000_0000_0001),
                     BitConverter.UInt64BitsToDouble(0xFFF4_2000_0000_0000) })
            yield return w;
    }

    [Test]
    public void Float64AndFloat32RoundToHalfAsSystemHalfDoes()
    {
        var doubles = BoundaryDoubles().ToArray();
        var shape = new Shape(doubles.Length);
        var h = Empty<Half>(Gpu, shape);
        GpuLayout.Cast(Gpu, Upload(Gpu, doubles, shape), h);
        var got = Download<Half>(h);
        for (int i = 0; i < doubles.Length; i++)
            if (BitConverter.HalfToUInt16Bits(got[i]) != BitConverter.HalfToUInt16Bits((Half)doubles[i]))
                Assert.Fail($"{doubles[i]:R} to half is {BitConverter.HalfToUInt16Bits(got[i]):x4}, System.Half " +
                    $"gives {BitConverter.HalfToUInt16Bits((Half)doubles[i]):x4}");
        // float32 as the CPU casts it: through double.
        var floats = doubles.Select(v => (float)v).ToArray();
        GpuLayout.Cast(Gpu, Upload(Gpu, floats, shape), h);
        got = Download<Half>(h);
        for (int i = 0; i < floats.Length; i++)
            if (BitConverter.HalfToUInt16Bits(got[i]) != BitConverter.HalfToUInt16Bits((Half)(double)floats[i]))
                Assert.Fail($"{floats[i]:R}f to half is {BitConverter.HalfToUInt16Bits(got[i]):x4}, System.Half " +
                    $"gives {BitConverter.HalfToUInt16Bits((Half)(double)floats[i]):x4}");
    }

    [Test]
    public void EveryDtypePairCastsAsOnTheCpu()
    {
        using var scope = NDArray.Scope();
        double[] values = [0, -0.0, 1, -1, 0.5, -0.5, 2.7, -2.7, 127.4, 127.6, -128.7, 255.5, 256, 300, -300, 65504,
            65520, 1e6, -1e10, 3e9, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e-6];
        var failures = new List<string>();
        foreach (var from in AllTypes)
        {
            // The source as the CPU makes it, then the same bits on the device.
            var x = Nd.Array(values, new Shape(values.Length), Device.Cpu).AsType(from);
            var xd = x.CopyTo(TestDevice);
            foreach (var to in AllTypes)
            {
                var expected = x.AsType(to).AsType(DType.Float64).ToArray<double>();
                var y = xd.AsType(to);
                y.Device.ShouldBe(TestDevice);
                y.DType.ShouldBe(to);
                var actual = y.CopyTo(Device.Cpu).AsType(DType.Float64).ToArray<double>();
                for (int i = 0; i < values.Length; i++)
                    if (!actual[i].Equals(expected[i]))
                        failures.Add($"{from.Name()} {x.AsType(DType.Float64).ToArray<double>()[i]} to {to.Name()} " +
                            $"is {actual[i]} on the GPU, {expected[i]} on the CPU");
            }
        }
        failures.ShouldBeEmpty(string.Join("; ", failures.Take(20)));
        Gpu.Kernels.Log.Select(k => k.Kernel).ShouldContain(k => k.StartsWith("GpuLayout.CastViaKernel"));
    }

    [TestCase(Distribution.Uniform, 7)]
    [TestCase(Distribution.Normal, 7)]
    [TestCase(Distribution.Uniform, 1001)]
    [TestCase(Distribution.Normal, 1001)]
    public void Float64RandomNumbersFollowTheCpuStreams(Distribution distribution, int n)
    {
        ulong seed = 0x0123456789abcdefUL, offset = 77;
        var expected = new double[n];
        if (distribution == Distribution.Uniform) CpuRandom.Uniform(seed, offset, -2.0, 3.0, expected);
        else CpuRandom.Normal(seed, offset, 0.5, 2.0, expected);
        var attrs = new RandomAttrs(distribution, distribution == Distribution.Uniform ? -2 : 0.5,
            distribution == Distribution.Uniform ? 3 : 2, new[] { n }, DType.Float64, seed, offset);
        var y = Empty<double>(Gpu, new Shape(n));
        using (var context = GpuContext("random"))
            RandomOps.Random.KernelFor(TestDevice)(attrs, context, [], [y]);
        var actual = Download<double>(y);
        // Uniform values are bit-identical everywhere; normal ones on the simulator (which runs .NET's log, sin
        // and cos), to about 1e-15 relative on a GPU.
        if (distribution == Distribution.Uniform || !IsRealGpu) actual.ShouldBe(expected);
        else
            for (int i = 0; i < n; i++) actual[i].ShouldBe(expected[i], 1e-14 * (1 + Math.Abs(expected[i])));
        Gpu.Kernels.Log.Select(k => k.Kernel).ShouldContain(k => k.StartsWith("GpuRandom."));
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void RandomNumbersFillAStridedOutputInRowMajorOrder(DType dtype)
    {
        // A (3, 5) output whose rows are columns of a (5, 3) buffer: element (r, c) holds stream element 5 r + c.
        var attrs = new RandomAttrs(Distribution.Uniform, -1, 1, new[] { 3, 5 }, dtype, 3, 11);
        var layout = new TensorLayout(new Shape(3, 5), [1, 3], 0);
        var dense = new double[15];
        if (dtype == DType.Float64) CpuRandom.Uniform(3, 11, -1.0, 1.0, dense);
        else
        {
            var f = new float[15];
            CpuRandom.Uniform(3, 11, -1f, 1f, f);
            dense = f.Select(v => (double)v).ToArray();
        }
        double[] actual;
        using (var context = GpuContext("random"))
        {
            if (dtype == DType.Float64)
            {
                var y = Upload(Gpu, new double[15], layout);
                RandomOps.Random.KernelFor(TestDevice)(attrs, context, [], [y]);
                actual = Download<double>(y.WithLayout(TensorLayout.Contiguous(new Shape(15))));
            }
            else
            {
                var y = Upload(Gpu, new float[15], layout);
                RandomOps.Random.KernelFor(TestDevice)(attrs, context, [], [y]);
                actual = Download<float>(y.WithLayout(TensorLayout.Contiguous(new Shape(15)))).Select(v => (double)v)
                    .ToArray();
            }
        }
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 5; c++)
                actual[c * 3 + r].ShouldBe(dense[r * 5 + c], $"element ({r}, {c})");
    }
}
