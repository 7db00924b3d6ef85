using System.Reflection;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// 3-D convolution, 3-D pooling and the transposed convolutions (1-D to 3-D) on the GPU: the kernels against the
/// CPU's in float32 and float64, the operators through Nd and autograd on the device against the CPU backend with no
/// host-copy fallback taken, and every instantiation compiled to PTX for sm_90.
/// </summary>
public sealed class ConvolutionNdTests : GpuFixture
{
    private static readonly (Type Type, string Kernel, Type[] Arguments)[] Instantiations =
    [
        (typeof(GpuConvolution3D), "DirectForwardKernel", [typeof(float)]),
        (typeof(GpuConvolution3D), "DirectForwardKernel", [typeof(double)]),
        (typeof(GpuConvolution3D), "BackwardDataKernel", [typeof(float)]),
        (typeof(GpuConvolution3D), "BackwardDataKernel", [typeof(double)]),
        (typeof(GpuConvolution3D), "DirectBackwardWeightKernel", [typeof(double)]),
        (typeof(GpuGemm), "TiledKernel",
            [typeof(DenseSource), typeof(Conv3DViews.Columns), typeof(Conv3DViews.Output)]),
        (typeof(GpuGemm), "TiledKernel",
            [typeof(Conv3DViews.OutputGradient), typeof(Conv3DViews.ColumnsTransposed), typeof(DenseTarget)]),
        (typeof(GpuTensorCores), "Tf32Kernel",
            [typeof(DenseSource), typeof(Conv3DViews.Columns), typeof(Conv3DViews.Output)]),
        (typeof(GpuTensorCores), "Tf32Kernel",
            [typeof(Conv3DViews.OutputGradient), typeof(Conv3DViews.ColumnsTransposed), typeof(DenseTarget)]),
        (typeof(GpuConvolution), "BackwardDataKernel", [typeof(float)]),
        (typeof(GpuPooling3D), "ForwardKernel", [typeof(float), typeof(FloatReal)]),
        (typeof(GpuPooling3D), "ForwardKernel", [typeof(double), typeof(DoubleReal)]),
        (typeof(GpuPooling3D), "BackwardKernel", [typeof(float), typeof(FloatReal)]),
        (typeof(GpuPooling3D), "BackwardKernel", [typeof(double), typeof(DoubleReal)]),
    ];

    public static IEnumerable<TestCaseData> Kernels() =>
        Instantiations.Select(k => new TestCaseData(k.Type, k.Kernel, k.Arguments)
            .SetArgDisplayNames($"{k.Type.Name}.{k.Kernel}[{string.Join(", ", k.Arguments.Select(a => a.Name))}]"));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtxForSm90(Type type, string name, Type[] arguments)
    {
        var kernel = type.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(arguments);
        GpuPtxCheck.Verify(kernel);
        GpuPtxCheck.Compiled.Keys.ShouldContain(GpuPtxCheck.Describe(kernel));
    }

    private static IEnumerable<TestCaseData> Layers()
    {
        TestCaseData Case(string name, Convolution3DDescriptor d) => new TestCaseData(d).SetArgDisplayNames(name);
        yield return Case("direct k3 p1", new(2, 3, new Size3(3, 4, 5), 4, Size3.All(3), Size3.All(1),
            Size3.All(1), Size3.All(1)));
        yield return Case("gemm stride dilation", new(1, 6, new Size3(4, 5, 6), 5, new Size3(2, 3, 2),
            new Size3(1, 2, 1), new Size3(1, 1, 0), new Size3(2, 1, 2)));
        yield return Case("gemm groups", new(2, 10, new Size3(3, 3, 4), 4, new Size3(1, 2, 3), Size3.All(1),
            new Size3(0, 1, 1), Size3.All(1), groups: 2));
        yield return Case("depthwise stride 2", new(1, 3, new Size3(5, 4, 5), 6, Size3.All(3), Size3.All(2),
            Size3.All(1), Size3.All(1), groups: 3));
    }

    [TestCaseSource(nameof(Layers))]
    public void Conv3DPassesMatchTheCpu(Convolution3DDescriptor d)
    {
        var x = RandomFloats((int)d.InputSize, 61);
        var w = RandomFloats((int)d.WeightSize, 62);
        var bias = RandomFloats(d.OutChannels, 63);
        var dy = RandomFloats((int)d.OutputSize, 64);
        var gx = Upload(Gpu, x, d.InputShape);
        var gw = Upload(Gpu, w, d.WeightShape);
        var gdy = Upload(Gpu, dy, d.OutputShape);

        var gy = Empty<float>(Gpu, d.OutputShape);
        GpuConvolution3D.Forward(Gpu, d, gx, gw, Upload(Gpu, bias, new Shape(d.OutChannels)), gy);
        var ey = new float[d.OutputSize];
        CpuConvolution3D.Forward<float>(d, x, w, bias, ey);
        AssertClose(Download<float>(gy), ey, 1e-4, 1e-4, "forward");

        var gdx = Empty<float>(Gpu, d.InputShape);
        GpuConvolution3D.BackwardData(Gpu, d, gdy, gw, gdx);
        var edx = new float[d.InputSize];
        CpuConvolution3D.BackwardData<float>(d, dy, w, edx);
        AssertClose(Download<float>(gdx), edx, 1e-4, 1e-4, "backward data");

        var gdw = Empty<float>(Gpu, d.WeightShape);
        GpuConvolution3D.BackwardWeight(Gpu, d, gx, gdy, gdw);
        var edw = new float[d.WeightSize];
        CpuConvolution3D.BackwardWeight<float>(d, x, dy, edw);
        AssertClose(Download<float>(gdw), edw, 1e-4, 1e-3, "backward weight");

        // Float64: the direct kernels, close to the CPU's to rounding.
        double[] xd = D(x), wd = D(w), bd = D(bias), dyd = D(dy);
        var hy = Empty<double>(Gpu, d.OutputShape);
        var hdx = Empty<double>(Gpu, d.InputShape);
        var hdw = Empty<double>(Gpu, d.WeightShape);
        var hx = Upload(Gpu, xd, d.InputShape);
        var hw = Upload(Gpu, wd, d.WeightShape);
        var hdy = Upload(Gpu, dyd, d.OutputShape);
        GpuConvolution3D.Forward(Gpu, d, hx, hw, Upload(Gpu, bd, new Shape(d.OutChannels)), hy);
        GpuConvolution3D.BackwardData(Gpu, d, hdy, hw, hdx);
        GpuConvolution3D.BackwardWeight(Gpu, d, hx, hdy, hdw);
        double[] ry = new double[d.OutputSize], rdx = new double[d.InputSize], rdw = new double[d.WeightSize];
        CpuConvolution3D.Forward<double>(d, xd, wd, bd, ry);
        CpuConvolution3D.BackwardData<double>(d, dyd, wd, rdx);
        CpuConvolution3D.BackwardWeight<double>(d, xd, dyd, rdw);
        Close(Download<double>(hy), ry, "float64 forward");
        Close(Download<double>(hdx), rdx, "float64 backward data");
        Close(Download<double>(hdw), rdw, "float64 backward weight");
    }

    private static IEnumerable<TestCaseData> Pools()
    {
        TestCaseData Case(string name, Pooling3DDescriptor d) => new TestCaseData(d).SetArgDisplayNames(name);
        var input = new Size3(4, 5, 6);
        yield return Case("max 3 s2 p1 full", new(PoolingMode.Max, 2, 2, input, Size3.All(3), Size3.All(2),
            Size3.All(1), PoolingConvention.Full));
        yield return Case("avg rect exclude pad", new(PoolingMode.Avg, 1, 3, input, new Size3(2, 3, 2),
            new Size3(1, 2, 2), new Size3(1, 1, 0), PoolingConvention.Valid, countIncludePad: false));
        yield return Case("avg k2 s3 p1 full", new(PoolingMode.Avg, 1, 2, input, Size3.All(2), Size3.All(3),
            Size3.All(1), PoolingConvention.Full));
        yield return Case("max global", Pooling3DDescriptor.Global(PoolingMode.Max, 2, 3, input));
        yield return Case("avg global", Pooling3DDescriptor.Global(PoolingMode.Avg, 2, 3, input));
    }

    [TestCaseSource(nameof(Pools))]
    public void Pool3DMatchesTheCpu(Pooling3DDescriptor d)
    {
        // Values on a coarse grid, so max windows hold ties (the first maximum wins), and one NaN, which propagates.
        var rng = new Random(5);
        var x = Enumerable.Range(0, (int)d.InputLength).Select(_ => rng.Next(-4, 5) * 0.5).ToArray();
        x[7] = double.NaN;
        var dy = Enumerable.Range(0, (int)d.OutputLength).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var ey = new double[d.OutputLength];
        var edx = new double[d.InputLength];
        CpuPooling3D.Forward<double>(d, x, ey);
        CpuPooling3D.Backward<double>(d, x, ey, dy, edx);
        var gy = Empty<double>(Gpu, d.OutputShape);
        var gdx = Empty<double>(Gpu, d.InputShape);
        var gx = Upload(Gpu, x, d.InputShape);
        GpuPooling3D.Forward(Gpu, d, gx, gy);
        GpuPooling3D.Backward(Gpu, d, gx, Upload(Gpu, dy, d.OutputShape), gdx);
        Close(Download<double>(gy), ey, "float64 forward");
        Close(Download<double>(gdx), edx, "float64 backward");

        float[] xf = Array.ConvertAll(x, v => (float)v), dyf = Array.ConvertAll(dy, v => (float)v);
        var fy = new float[d.OutputLength];
        var fdx = new float[d.InputLength];
        CpuPooling3D.Forward<float>(d, xf, fy);
        CpuPooling3D.Backward<float>(d, xf, fy, dyf, fdx);
        var hy = Empty<float>(Gpu, d.OutputShape);
        var hdx = Empty<float>(Gpu, d.InputShape);
        var hx = Upload(Gpu, xf, d.InputShape);
        GpuPooling3D.Forward(Gpu, d, hx, hy);
        GpuPooling3D.Backward(Gpu, d, hx, Upload(Gpu, dyf, d.OutputShape), hdx);
        // The GPU sums each input's windows in the CPU's order: the same bits.
        Download<float>(hy).ShouldBe(fy);
        Download<float>(hdx).ShouldBe(fdx);
    }

    private static IEnumerable<TestCaseData> Operators()
    {
        TestCaseData Case(string name, Func<NDArray, NDArray> body, int[] shape, params string[] kernels) =>
            new TestCaseData(body, shape, kernels).SetArgDisplayNames(name);
        yield return Case("conv1d_transpose s2 adj1 bias",
            x => Nd.Deconvolution(x, Param(x, 3, 2, 3), Param(x, 2), [2], [1], adj: [1]), [2, 3, 7],
            "GpuConvolution.BackwardDataKernel");
        yield return Case("conv2d_transpose groups dilation",
            x => Nd.Deconvolution(x, Param(x, 4, 3, 3, 2), null, [2, 1], [1, 0], [1, 2], [1, 0], groups: 2),
            [1, 4, 3, 4], "GpuConvolution.BackwardDataKernel");
        yield return Case("conv2d_transpose target_shape",
            x => Nd.Deconvolution(x, Param(x, 2, 3, 3, 3), Param(x, 3), [2, 2], targetShape: [8, 10]),
            [1, 2, 4, 5], "GpuConvolution.BackwardDataKernel");
        yield return Case("conv3d_transpose s2 adj bias",
            x => Nd.Deconvolution(x, Param(x, 3, 2, 3, 2, 2), Param(x, 2), [2, 1, 2], [1, 0, 0], adj: [1, 0, 1]),
            [1, 3, 2, 3, 3], "GpuConvolution3D.BackwardDataKernel", "GpuConvolution3D.DirectForwardKernel");
        yield return Case("conv3d groups bias",
            x => Nd.Convolution(x, Param(x, 4, 3, 2, 2, 3), Param(x, 4), [1, 2, 1], [1, 0, 1], [2, 1, 1], 2),
            [2, 6, 4, 3, 4], "GpuConvolution3D.DirectForwardKernel", "GpuConvolution3D.BackwardDataKernel");
        yield return Case("max and avg pool3d",
            x => Nd.Pooling(x, [3, 3, 3], PoolingMode.Max, [2, 2, 2], [1, 1, 1],
                    convention: PoolingConvention.Full)
                + Nd.Pooling(x, [3, 3, 3], PoolingMode.Avg, [2, 2, 2], [1, 1, 1],
                    convention: PoolingConvention.Full, countIncludePad: false),
            [1, 2, 5, 4, 6], "GpuPooling3D.ForwardKernel", "GpuPooling3D.BackwardKernel");
        yield return Case("global pool3d",
            x => Nd.Pooling(x, [1, 1, 1], PoolingMode.Avg, globalPool: true)
                * Nd.Pooling(x, [1, 1, 1], PoolingMode.Max, globalPool: true),
            [2, 3, 3, 4, 2], "GpuPooling3D.ForwardKernel", "GpuPooling3D.BackwardKernel");
    }

    [TestCaseSource(nameof(Operators))]
    public void OperatorsRunOnTheDeviceWithoutHostCopies(Func<NDArray, NDArray> body, int[] shape, string[] kernels)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var values = TestValues(new Shape(shape).Size, 7);
            var (y, dx) = Run(body, values, new Shape(shape), dtype, Device.Cpu);
            var fallbacks = new Dictionary<string, int>(Gpu.HostFallbacks);
            var (gy, gdx) = Run(body, values, new Shape(shape), dtype, TestDevice);
            foreach (var (op, count) in Gpu.HostFallbacks)
                count.ShouldBe(fallbacks.GetValueOrDefault(op), $"{op} ran its CPU kernel on host copies");
            double tolerance = dtype == DType.Float64 ? 1e-10 : 2e-5;
            Close(gy, y, $"{dtype.Name()} output", tolerance);
            Close(gdx, dx, $"{dtype.Name()} input gradient", tolerance);
        }
        var loaded = Gpu.Kernels.Log.Select(k => k.Kernel).ToHashSet();
        foreach (string k in kernels) loaded.ShouldContain(name => name.StartsWith(k, StringComparison.Ordinal));
    }

    [Test]
    public void AHybridizedConv3DWithAFusedReluMatchesTheCpu()
    {
        // The graph compiler folds the relu into the 3-D convolution (an epilogue), which the 3-D kernels apply.
        static Engine.Gluon.HybridSequential Make()
        {
            var net = new Engine.Gluon.HybridSequential();
            net.Add(new Engine.Gluon.NN.Conv3D(3, 3, padding: 1, activation: "relu"), new Engine.Gluon.NN.Flatten(),
                new Engine.Gluon.NN.Dense(4));
            return net;
        }
        using var scope = NDArray.Scope();
        var shape = new Shape(2, 2, 3, 4, 3);
        var x = Nd.Array(TestValues(shape.Size, 11), shape).AsType(DType.Float32);
        RandomState.Seed(2);
        var cpu = Make();
        cpu.Initialize();
        var expected = cpu.Call(x).ToArray<float>();
        var gpu = Make();
        gpu.Initialize(device: TestDevice);
        var gx = x.CopyTo(TestDevice);
        gpu.Call(gx).Dispose();
        var source = cpu.CollectParams().Values.ToList();
        var target = gpu.CollectParams().Values.ToList();
        for (int i = 0; i < source.Count; i++) target[i].SetData(source[i].Data().CopyTo(TestDevice));
        gpu.Hybridize();
        var actual = gpu.Call(gx);
        actual.Device.ShouldBe(TestDevice);
        gpu.CompiledGraph!.Operators.Select(n => (n.Attrs as Engine.Ops.ConvolutionAttrs)?.Activation)
            .ShouldContain(EpilogueActivation.Relu);
        AssertClose(actual.ToArray<float>(), expected, 1e-5, 1e-5, "hybridized conv3d + relu");
    }

    private static NDArray Param(NDArray like, params int[] shape)
    {
        var p = Nd.Array(TestValues(new Shape(shape).Size, shape.Length), new Shape(shape), like.Device)
            .AsType(like.DType);
        p.AttachGrad();
        return p;
    }

    private static double[] TestValues(long n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    private static (double[] Y, double[] Dx) Run(Func<NDArray, NDArray> body, double[] values, Shape shape,
        DType dtype, Device device)
    {
        using var scope = NDArray.Scope();
        var x = Nd.Array(values, shape, device).AsType(dtype);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = body(x);
        y.DType.ShouldBe(dtype);
        y.Device.ShouldBe(device);
        y.Backward();
        return (y.AsType(DType.Float64).ToArray<double>(), x.Grad!.AsType(DType.Float64).ToArray<double>());
    }

    private static void Close(double[] actual, double[] expected, string what, double tolerance = 1e-10)
    {
        actual.Length.ShouldBe(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(expected[i]) && double.IsNaN(actual[i])) continue;
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i} is {actual[i]} on the GPU, {expected[i]} on the CPU.");
        }
    }

    private static double[] D(float[] v) => Array.ConvertAll(v, e => (double)e);
}
