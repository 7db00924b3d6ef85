using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Memory;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Base of the GPU conformance fixtures: the device under test (the simulated GPU here; a CUDA device when
/// ENGINE_TEST_GPU names one, e.g. cuda:0, as tools/gpu-check.sh does), arguments moved between host arrays and
/// both devices, and contexts for each. Fixtures are non-parallel (the simulator's threads already fill the cores)
/// and belong to the conformance category, as the main suite's kernel tables do.
/// </summary>
[NonParallelizable]
[Category("Conformance")]
public abstract class GpuFixture
{
    private readonly List<DeviceBuffer> buffers = new();

    protected static Device TestDevice => GpuTestDevice.Device;

    protected static GpuRuntime Gpu => (GpuRuntime)DeviceRuntime.For(TestDevice);

    protected static CpuRuntime Cpu => CpuRuntime.Instance;

    /// <summary>Whether full sizes may be used (a real GPU); the simulator wants small ones.</summary>
    protected static bool IsRealGpu => !Gpu.IsSimulator;

    [TearDown]
    public void ReleaseBuffers()
    {
        Gpu.Synchronize();
        foreach (var b in buffers) b.Dispose();
        buffers.Clear();
    }

    protected KernelContext GpuContext(string op, params WriteRequest[] requests) => new(Gpu, op, requests);

    protected KernelContext CpuContext(string op, params WriteRequest[] requests) => new(Cpu, op, requests);

    /// <summary>A contiguous argument on <paramref name="runtime"/> holding <paramref name="values"/>.</summary>
    protected TensorArg Upload<T>(DeviceRuntime runtime, T[] values, Shape shape) where T : unmanaged
    {
        var arg = Empty<T>(runtime, shape);
        runtime.CopyFromHost(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), arg.Buffer, 0);
        return arg;
    }

    /// <summary>An argument of the given layout (strides, offset) over a buffer filled from <paramref name="values"/>.
    /// </summary>
    protected TensorArg Upload<T>(DeviceRuntime runtime, T[] values, TensorLayout layout) where T : unmanaged
    {
        var whole = Upload(runtime, values, new Shape(values.Length));
        return whole.WithLayout(layout);
    }

    protected TensorArg Empty<T>(DeviceRuntime runtime, Shape shape) where T : unmanaged
    {
        var buffer = runtime.Allocate(shape.Size * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        buffers.Add(buffer);
        return new TensorArg(buffer, TensorLayout.Contiguous(shape), DTypeExtensions.Of<T>());
    }

    /// <summary>The argument's elements (contiguous from its offset), read back to the host.</summary>
    protected static T[] Download<T>(in TensorArg x) where T : unmanaged
    {
        var runtime = DeviceRuntime.For(x.Device);
        var result = new T[x.Size];
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        runtime.CopyToHost(x.Buffer, x.Offset * size,
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    protected static float[] RandomFloats(int n, int seed, float low = -2f, float high = 2f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = low + (float)rng.NextDouble() * (high - low);
        return v;
    }

    /// <summary>Asserts elementwise closeness: |a - e| &lt;= atol + rtol |e|, NaN only where NaN is expected.</summary>
    protected static void AssertClose(float[] actual, float[] expected, double rtol = 1e-5, double atol = 1e-6,
        string what = "")
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: lengths");
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (a == e) continue;
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}: element {i} is {a}, expected {e} (rtol {rtol}, atol {atol}).");
        }
    }
}
