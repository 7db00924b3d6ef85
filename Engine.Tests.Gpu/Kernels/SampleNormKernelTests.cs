using System.Reflection;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Layer, instance and group norm kernels (<see cref="GpuSampleNorm"/>) against the CPU's
/// (<see cref="CpuSampleNorm"/>) on (outer, length, inner) views with inner > 1, rows longer than a group, empty
/// extents and in-place output, in float32 and float64; the operators run them on the device (not the CPU kernel
/// on host copies); every instantiation compiles to PTX for sm_90.
/// </summary>
public sealed class SampleNormKernelTests : GpuFixture
{
    private static readonly (string Kernel, Type[] Arguments)[] Instantiations =
    [
        ("ForwardKernel", [typeof(float), typeof(FloatReal)]),
        ("ForwardKernel", [typeof(double), typeof(DoubleReal)]),
        ("DataGradientKernel", [typeof(float), typeof(FloatReal)]),
        ("DataGradientKernel", [typeof(double), typeof(DoubleReal)]),
        ("AffineGradientKernel", [typeof(float), typeof(FloatReal)]),
        ("AffineGradientKernel", [typeof(double), typeof(DoubleReal)]),
    ];

    public static IEnumerable<TestCaseData> Kernels() =>
        Instantiations.Select(k => new TestCaseData(k.Kernel, k.Arguments)
            .SetArgDisplayNames($"{k.Kernel}[{k.Arguments[0].Name}]"));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtxForSm90(string name, Type[] arguments)
    {
        var kernel = typeof(GpuSampleNorm).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(arguments);
        GpuPtxCheck.Verify(kernel);
        GpuPtxCheck.Compiled.Keys.ShouldContain(GpuPtxCheck.Describe(kernel));
    }

    private static IEnumerable<SampleNormDescriptor> Descriptors()
    {
        yield return new SampleNormDescriptor(3, 70, 1, NormAffine.PerPosition) { Epsilon = 1e-3 };
        yield return new SampleNormDescriptor(2, 5, 3, NormAffine.PerPosition);
        yield return new SampleNormDescriptor(6, 10, 1, NormAffine.PerOuter, 3);
        yield return new SampleNormDescriptor(4, 33, 2, NormAffine.PerOuter, 2);
        yield return new SampleNormDescriptor(2, 0, 3, NormAffine.PerPosition);
        yield return new SampleNormDescriptor(0, 4, 1, NormAffine.PerPosition);
        yield return new SampleNormDescriptor(0, 3, 2, NormAffine.PerOuter, 2);
    }

    [TestCaseSource(nameof(Descriptors))]
    public void Float64MatchesTheCpu(SampleNormDescriptor d) => Compare<double>(d, 0, 1e-12);

    [TestCaseSource(nameof(Descriptors))]
    public void Float32MatchesTheCpu(SampleNormDescriptor d) => Compare<float>(d, 1e3, 2e-5);

    private void Compare<T>(SampleNormDescriptor d, double shift, double tolerance) where T : unmanaged,
        System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random((int)(d.Count + d.Groups));
        T[] Values(long n, double low, double high) => Enumerable.Range(0, (int)n)
            .Select(_ => T.CreateTruncating(low + rng.NextDouble() * (high - low))).ToArray();
        T[] x = Values(d.Count, shift - 2, shift + 3), dy = Values(d.Count, -1, 1);
        T[] gamma = Values(d.AffineCount, 0.5, 1.5), beta = Values(d.AffineCount, -0.5, 0.5);
        var ey = new T[d.Count];
        var em = new T[d.Statistics];
        var es = new T[d.Statistics];
        CpuSampleNorm.Forward<T>(d, x, gamma, beta, ey, em, es);
        var edx = new T[d.Count];
        var edg = new T[d.AffineCount];
        var edb = new T[d.AffineCount];
        CpuSampleNorm.Backward<T>(d, x, dy, gamma, em, es, edx, edg, edb);

        var data = new Shape((int)d.Count);
        var stats = new Shape((int)d.Statistics);
        var affine = new Shape((int)d.AffineCount);
        var gx = Upload(Gpu, x, data);
        var gg = Upload(Gpu, gamma, affine);
        var gm = Empty<T>(Gpu, stats);
        var gs = Empty<T>(Gpu, stats);
        var gy = Empty<T>(Gpu, data);
        GpuSampleNorm.Forward(Gpu, d, gx, gg, Upload(Gpu, beta, affine), gy, gm, gs);
        Close(Download<T>(gy), ey, tolerance, "y");
        Close(Download<T>(gm), em, tolerance, "mean");
        Close(Download<T>(gs), es, tolerance, "std");
        var gdx = Empty<T>(Gpu, data);
        var gdg = Empty<T>(Gpu, affine);
        var gdb = Empty<T>(Gpu, affine);
        // Garbage in the outputs first: every element must be written.
        GpuLayout.Fill(Gpu, gdg, T.CreateTruncating(7));
        GpuSampleNorm.Backward(Gpu, d, gx, Upload(Gpu, dy, data), gg, gs, gdx, gdg, gdb);
        Close(Download<T>(gdx), edx, tolerance, "dx");
        Close(Download<T>(gdg), edg, tolerance * 10, "dgamma");
        Close(Download<T>(gdb), edb, tolerance * 10, "dbeta");

        // In place: y written over x.
        GpuSampleNorm.Forward(Gpu, d, gx, gg, Upload(Gpu, beta, affine), gx, gm, gs);
        Close(Download<T>(gx), ey, tolerance, "y in place");
    }

    private static void Close<T>(T[] actual, T[] expected, double tolerance, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        actual.Length.ShouldBe(expected.Length, what);
        for (int i = 0; i < actual.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]), e = double.CreateTruncating(expected[i]);
            if (!(Math.Abs(a - e) <= tolerance * (1 + Math.Abs(e))))
                Assert.Fail($"{what}: element {i} is {a} on the GPU, {e} on the CPU.");
        }
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void OperatorsRunTheGpuKernels(DType dtype)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(11);
        NDArray Make(params int[] shape)
        {
            var s = new Shape(shape);
            var a = Nd.Array(Enumerable.Range(0, (int)s.Size).Select(_ => rng.NextDouble() * 2 - 0.5).ToArray(), s,
                TestDevice).AsType(dtype);
            a.AttachGrad();
            return a;
        }
        var x = Make(2, 4, 3);
        NDArray y;
        using (Engine.Autograd.Record())
            y = Nd.LayerNorm(x, Make(3), Make(3)) + Nd.InstanceNorm(x, Make(4), Make(4), 1e-5) +
                Nd.GroupNorm(x, Make(2), Make(2), numGroups: 2);
        y.Backward();
        y.Device.ShouldBe(TestDevice);
        x.Grad!.ToArray<double>().ShouldAllBe(v => double.IsFinite(v));
        string t = dtype == DType.Float32 ? "Single" : "Double";
        var loaded = Gpu.Kernels.Log.Select(k => k.Kernel).ToHashSet();
        foreach (string k in new[] { "ForwardKernel", "DataGradientKernel", "AffineGradientKernel" })
            loaded.ShouldContain($"GpuSampleNorm.{k}[{t}, {(t == "Single" ? "Float" : "Double")}Real]");
    }
}
