using System.Reflection;
using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Float64 convolution, pooling, batch norm, softmax, cross-entropy and fully-connected layers run GPU kernels (the
/// generic ones, instantiated for double), not the CPU kernel on host copies: each operator is run through Nd on the
/// device, its result compared with the CPU backend's, and the double instantiation must be among the kernels the
/// device loaded.
/// Every double instantiation is also compiled to PTX for sm_90.
/// </summary>
public sealed class Float64KernelTests : GpuFixture
{
    private static readonly (Type Type, string Kernel, Type[] Arguments)[] Instantiations =
    [
        (typeof(GpuConvolution), "DirectForwardKernel", [typeof(double)]),
        (typeof(GpuConvolution), "BackwardDataKernel", [typeof(double)]),
        (typeof(GpuConvolution), "DirectBackwardWeightKernel", [typeof(double)]),
        (typeof(GpuPooling), "ForwardKernel", [typeof(double), typeof(DoubleReal)]),
        (typeof(GpuPooling), "BackwardKernel", [typeof(double), typeof(DoubleReal)]),
        (typeof(GpuBatchNorm), "StatisticsKernel", [typeof(double), typeof(DoubleReal)]),
        (typeof(GpuBatchNorm), "NormalizeKernel", [typeof(double)]),
        (typeof(GpuBatchNorm), "InferenceKernel", [typeof(double), typeof(DoubleReal)]),
        (typeof(GpuBatchNorm), "GradientSumsKernel", [typeof(double), typeof(DoubleReal)]),
        (typeof(GpuBatchNorm), "DataGradientKernel", [typeof(double)]),
        (typeof(GpuSoftmax), "ForwardKernel", [typeof(double)]),
        (typeof(GpuSoftmax), "BackwardKernel", [typeof(double)]),
        (typeof(GpuSoftmaxCrossEntropy), "ForwardKernel", [typeof(double)]),
        (typeof(GpuSoftmaxCrossEntropy), "BackwardKernel", [typeof(double)]),
    ];

    public static IEnumerable<TestCaseData> Kernels() =>
        Instantiations.Select(k => new TestCaseData(k.Type, k.Kernel, k.Arguments)
            .SetArgDisplayNames($"{k.Type.Name}.{k.Kernel}"));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtxForSm90(Type type, string name, Type[] arguments)
    {
        var kernel = type.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(arguments);
        GpuPtxCheck.Verify(kernel);
        GpuPtxCheck.Compiled.Keys.ShouldContain(GpuPtxCheck.Describe(kernel));
    }

    [Test]
    public void ConvolutionRunsOnTheDevice() => Check(
        x => Nd.Convolution(x, Param(x, 4, 3, 3, 3), Param(x, 4), pad: [1, 1], stride: [2, 1]),
        new Shape(2, 3, 7, 6), "GpuConvolution.DirectForwardKernel[Double]",
        "GpuConvolution.BackwardDataKernel[Double]",
        "GpuConvolution.DirectBackwardWeightKernel[Double]");

    [Test]
    public void PoolingRunsOnTheDevice() => Check(
        x => Nd.Pooling(x, [3, 3], PoolingMode.Avg, [2, 2], [1, 1], countIncludePad: false) + Nd.MaxPool2D(x, 3, 2, 1),
        new Shape(2, 3, 7, 6), "GpuPooling.ForwardKernel[Double, DoubleReal]",
        "GpuPooling.BackwardKernel[Double, DoubleReal]");

    [Test]
    public void BatchNormRunsOnTheDevice() => Check(
        x =>
        {
            using var mean = Nd.Zeros(new Shape(3), DType.Float64, x.Device);
            using var variance = Nd.Ones(new Shape(3), DType.Float64, x.Device);
            return Nd.BatchNorm(x, Param(x, 3), Param(x, 3), mean, variance);
        },
        new Shape(4, 3, 5), "GpuBatchNorm.StatisticsKernel[Double, DoubleReal]",
        "GpuBatchNorm.GradientSumsKernel[Double, DoubleReal]", "GpuBatchNorm.DataGradientKernel[Double]");

    [Test]
    public void SoftmaxRunsOnTheDevice() => Check(
        x => Nd.Softmax(x, axis: 1, temperature: 2) * Nd.LogSoftmax(x, axis: -1),
        new Shape(3, 4, 5), "GpuSoftmax.ForwardKernel[Double]", "GpuSoftmax.BackwardKernel[Double]");

    [Test]
    public void SoftmaxCrossEntropyRunsOnTheDevice() => Check(
        x => Nd.SoftmaxCrossEntropy(x, Nd.Array(new long[] { 2, 0, 4 }, new Shape(3), x.Device)),
        new Shape(3, 5), "GpuSoftmaxCrossEntropy.ForwardKernel[Double]",
        "GpuSoftmaxCrossEntropy.BackwardKernel[Double]");

    [Test]
    public void FullyConnectedRunsOnTheDevice() => Check(
        x => Nd.FullyConnected(x, Param(x, 5, 12), Param(x, 5), 5), new Shape(3, 4, 3), "GpuGemm.");

    private static NDArray Param(NDArray like, params int[] shape)
    {
        var p = Nd.Array(TestValues(new Shape(shape).Size, shape.Length), new Shape(shape), like.Device);
        p.AttachGrad();
        return p;
    }

    private static double[] TestValues(long n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="body"/> and its gradient on the CPU and on the device in float64, compares them, and
    /// checks that the device loaded each named kernel.
    /// </summary>
    private static void Check(Func<NDArray, NDArray> body, Shape shape, params string[] kernels)
    {
        var values = TestValues(shape.Size, 7);
        var (y, dx) = Run(body, values, shape, Device.Cpu);
        var (gy, gdx) = Run(body, values, shape, TestDevice);
        Close(gy, y, "output");
        Close(gdx, dx, "input gradient");
        var loaded = Gpu.Kernels.Log.Select(k => k.Kernel).ToHashSet();
        foreach (string k in kernels) loaded.ShouldContain(name => name.StartsWith(k, StringComparison.Ordinal));
    }

    private static (double[] Y, double[] Dx) Run(Func<NDArray, NDArray> body, double[] values, Shape shape,
        Device device)
    {
        using var scope = NDArray.Scope();
        var x = Nd.Array(values, shape, device);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = body(x);
        y.DType.ShouldBe(DType.Float64);
        y.Device.ShouldBe(device);
        y.Backward();
        return (y.ToArray<double>(), x.Grad!.ToArray<double>());
    }

    private static void Close(double[] actual, double[] expected, string what)
    {
        actual.Length.ShouldBe(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (Math.Abs(actual[i] - expected[i]) > 1e-11 + 1e-10 * Math.Abs(expected[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]} on the GPU, {expected[i]} on the CPU.");
        }
    }
}
