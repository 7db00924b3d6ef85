using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// Conv3D and the transposed convolutions (MXNet's Deconvolution, 1-D to 3-D): the 3-D kernels against the naive
/// gather reference, the Deconvolution op against the naive scatter reference, and both against PyTorch goldens
/// (tools/golden/gen_conv.py, Golden/conv_nd) through the operators and autograd. On another device the kernel
/// table runs the convolution operators there.
/// </summary>
[Category("Conformance")]
public class ConvolutionNdConformanceTests(Device device) : DeviceFixture(device)
{
    private const string Family = "conv_nd";

    private static double[] Random(int seed, long count) => TestData.UniformDouble(new Random(seed), count);

    private static long Size(int[] shape) => shape.Aggregate(1L, (p, v) => p * v);

    private static IEnumerable<TestCaseData> Conv3DCases()
    {
        TestCaseData Case(string name, int[] x, int[] w, int[] s, int[] p, int[] d, int g) =>
            new TestCaseData(x, w, s, p, d, g).SetName($"{{m}}({name})");
        yield return Case("k3 p1", [2, 3, 4, 5, 6], [4, 3, 3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], 1);
        yield return Case("stride 2 rect", [1, 2, 7, 5, 6], [3, 2, 3, 2, 1], [2, 1, 2], [0, 1, 0], [1, 1, 1], 1);
        yield return Case("dilation groups", [2, 4, 6, 6, 5], [6, 2, 2, 2, 3], [1, 2, 1], [1, 0, 2], [2, 1, 2], 2);
        yield return Case("depthwise", [1, 3, 4, 4, 4], [3, 1, 3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], 3);
        yield return Case("pointwise", [2, 5, 2, 3, 4], [3, 5, 1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1], 1);
        // More than four input channels per group: the GPU's implicit-GEMM path.
        yield return Case("wide groups", [1, 10, 4, 5, 4], [4, 5, 2, 3, 2], [1, 2, 1], [1, 1, 0], [1, 1, 2], 2);
        yield return Case("empty batch", [0, 2, 3, 3, 3], [2, 2, 2, 2, 2], [1, 1, 1], [0, 0, 0], [1, 1, 1], 1);
    }

    [TestCaseSource(nameof(Conv3DCases))]
    public void Conv3DKernelsMatchReference(int[] xs, int[] ws, int[] stride, int[] pad, int[] dilate, int groups)
    {
        var d = Convolution3DDescriptor.FromShapes(new Shape(xs), new Shape(ws), stride, pad, dilate, groups);
        double[] x = Random(1, Size(xs)), w = Random(2, Size(ws)), b = Random(3, ws[0]);
        var ys = ConvolutionNdReference.ConvOutput(xs, ws, stride, pad, dilate);
        d.OutputShape.ShouldBe(new Shape(ys));
        double[] dy = Random(4, Size(ys));
        var expectedY = ConvolutionNdReference.Conv(x, xs, w, ws, b, stride, pad, dilate, groups);
        var expectedDx = ConvolutionNdReference.ConvBackwardData(dy, w, xs, ws, stride, pad, dilate, groups);
        var expectedDw = ConvolutionNdReference.ConvBackwardWeight(x, dy, xs, ws, stride, pad, dilate, groups);

        // Every output is pre-filled with NaN, so an element the kernel does not write fails the comparison.
        var (y, dx, dw) = Run3D(d, x, w, b, dy, double.NaN);
        TensorAssert.AllClose(y, expectedY, Tolerances.Float64, "conv3d forward");
        TensorAssert.AllClose(dx, expectedDx, Tolerances.Float64, "conv3d dx");
        TensorAssert.AllClose(dw, expectedDw, Tolerances.Float64, "conv3d dw");

        var (yf, dxf, dwf) = Run3D(d, F(x), F(w), F(b), F(dy), 0f);
        TensorAssert.AllClose(yf, F(expectedY), Tolerances.Float32Gemm(d.InChannelsPerGroup * 27), "float forward");
        TensorAssert.AllClose(dxf, F(expectedDx), Tolerances.Float32Gemm(d.OutChannels * 27), "float dx");
        TensorAssert.AllClose(dwf, F(expectedDw), Tolerances.Float32Gemm((int)Math.Max(1, d.OutputSize)),
            "float dw");
    }

    private static IEnumerable<TestCaseData> TransposeCases()
    {
        TestCaseData Case(string name, int[] x, int[] w, int[] s, int[] p, int[] adj, int[] d, int g, bool bias) =>
            new TestCaseData(x, w, s, p, adj, d, g, bias).SetName($"{{m}}({name})");
        yield return Case("1d s2 adj1", [2, 3, 7], [3, 4, 3], [2], [1], [1], [1], 1, true);
        yield return Case("1d dilation groups", [1, 4, 6], [4, 3, 3], [3], [2], [2], [2], 2, false);
        yield return Case("2d dcgan k4 s2 p1", [2, 6, 4, 4], [6, 5, 4, 4], [2, 2], [1, 1], [0, 0], [1, 1], 1, true);
        yield return Case("2d 1x1 input k4", [3, 5, 1, 1], [5, 4, 4, 4], [1, 1], [0, 0], [0, 0], [1, 1], 1, true);
        yield return Case("2d rect adj", [1, 2, 3, 5], [2, 3, 2, 3], [3, 2], [0, 1], [2, 1], [1, 2], 1, true);
        yield return Case("2d depthwise", [2, 4, 5, 5], [4, 1, 3, 3], [1, 1], [1, 1], [0, 0], [1, 1], 4, false);
        yield return Case("3d s2 adj", [1, 3, 2, 3, 3], [3, 2, 3, 2, 2], [2, 1, 2], [1, 0, 0], [1, 0, 1],
            [1, 1, 1], 1, true);
        yield return Case("3d groups dilation", [2, 4, 3, 2, 2], [4, 2, 2, 2, 2], [1, 2, 1], [0, 1, 1], [0, 1, 0],
            [2, 1, 2], 2, true);
    }

    [TestCaseSource(nameof(TransposeCases))]
    public void DeconvolutionMatchesScatterReference(int[] xs, int[] ws, int[] stride, int[] pad, int[] adj,
        int[] dilate, int groups, bool withBias)
    {
        using var scope = NDArray.Scope();
        double[] x = Random(5, Size(xs)), w = Random(6, Size(ws));
        double[]? b = withBias ? Random(7, ws[1] * groups) : null;
        var (expected, shape) = ConvolutionNdReference.ConvTranspose(x, xs, w, ws, b, stride, pad, adj, dilate,
            groups);
        var y = Nd.Deconvolution(Nd.Array(x, new Shape(xs)), Nd.Array(w, new Shape(ws)),
            b is null ? null : Nd.Array(b, new Shape(b.Length)), stride, pad, dilate, adj, groups: groups);
        y.Shape.ShouldBe(new Shape(shape));
        TensorAssert.AllClose(y.ToArray<double>(), expected, Tolerances.Float64, "deconvolution forward");

        // float32 through the same op.
        var yf = Nd.Deconvolution(Nd.Array(F(x), new Shape(xs)), Nd.Array(F(w), new Shape(ws)),
            b is null ? null : Nd.Array(F(b), new Shape(b.Length)), stride, pad, dilate, adj, groups: groups);
        TensorAssert.AllClose(yf.ToArray<float>(), F(expected), Tolerances.Float32Gemm(xs[1] * 27),
            "float deconvolution forward");
    }

    [Test]
    public void TargetShapePicksPadAndAdjAsMXNetDoes()
    {
        using var scope = NDArray.Scope();
        int[] xs = [1, 2, 4, 5], ws = [2, 3, 3, 3];
        double[] x = Random(8, Size(xs)), w = Random(9, Size(ws));
        // stride 2, k 3: the full extent is 2 * 3 + 3 = 9 (H) and 11 (W); targets 8 and 10 need total 1 -> pad 1,
        // adj 1 on both axes (MXNet's InferPad).
        var y = Nd.Deconvolution(Nd.Array(x, new Shape(xs)), Nd.Array(w, new Shape(ws)), null, [2, 2],
            targetShape: [8, 10]);
        y.Shape.ShouldBe(new Shape(1, 3, 8, 10));
        var (expected, _) = ConvolutionNdReference.ConvTranspose(x, xs, w, ws, null, [2, 2], [1, 1], [1, 1], [1, 1],
            1);
        TensorAssert.AllClose(y.ToArray<double>(), expected, Tolerances.Float64, "target_shape");
    }

    public static IEnumerable<string> GoldenCases() => Golden.CaseNames(Family);

    [Test]
    public void GoldenCasesArePresent() =>
        GoldenCases().Count().ShouldBeGreaterThanOrEqualTo(12, "run /usr/bin/python3 tools/golden/gen_conv.py");

    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorch(string name)
    {
        using var scope = NDArray.Scope();
        var c = Golden.Load(Family, name);
        int[] Ints(string key) => c.Attrs.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        string op = c.Attrs.GetProperty("op").GetString()!;
        bool withBias = c.Attrs.GetProperty("bias").GetBoolean();
        int groups = c.Attrs.GetProperty("groups").GetInt32();
        var x = Nd.Array(c["x"].ToFloat32(), c["x"].Shape);
        var w = Nd.Array(c["w"].ToFloat32(), c["w"].Shape);
        var b = withBias ? Nd.Array(c["b"].ToFloat32(), c["b"].Shape) : null;
        x.AttachGrad();
        w.AttachGrad();
        b?.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record())
        {
            y = op.StartsWith("conv_transpose")
                ? Nd.Deconvolution(x, w, b, Ints("stride"), Ints("padding"), Ints("dilation"),
                    Ints("output_padding"), groups: groups)
                : Nd.Convolution(x, w, b, Ints("stride"), Ints("padding"), Ints("dilation"), groups);
        }
        y.Shape.ShouldBe(c["y"].Shape);
        Engine.Autograd.Backward([y], [Nd.Array(c["dy"].ToFloat32(), c["dy"].Shape)]);
        TensorAssert.AllClose(y.ToArray<float>(), c["y"].ToFloat32(), Tolerances.Golden, $"{name} forward");
        TensorAssert.AllClose(x.Grad!.ToArray<float>(), c["dx"].ToFloat32(), Tolerances.Golden, $"{name} dx");
        TensorAssert.AllClose(w.Grad!.ToArray<float>(), c["dw"].ToFloat32(), Tolerances.Golden, $"{name} dw");
        if (b is not null)
            TensorAssert.AllClose(b.Grad!.ToArray<float>(), c["db"].ToFloat32(), Tolerances.Golden, $"{name} db");
    }

    [Test]
    public void Conv3DResultsDoNotDependOnThreadCount()
    {
        RequireCpu("splitting conv3d over threads");
        var d = Convolution3DDescriptor.FromShapes(new Shape(2, 8, 6, 7, 8), new Shape(8, 8, 3, 3, 3), [1], [1]);
        float[] x = TestData.Uniform(new Random(1), d.InputSize), w = TestData.Uniform(new Random(2), d.WeightSize);
        float[] dy = TestData.Uniform(new Random(3), d.OutputSize);
        (float[] Y, float[] Dx, float[] Dw) Run()
        {
            float[] y = new float[d.OutputSize], dx = new float[d.InputSize], dw = new float[d.WeightSize];
            CpuConvolution3D.Forward<float>(d, x, w, default, y);
            CpuConvolution3D.BackwardData<float>(d, dy, w, dx);
            CpuConvolution3D.BackwardWeight<float>(d, x, dy, dw);
            return (y, dx, dw);
        }
        var many = Run();
        int saved = CpuParallel.MaxThreads;
        CpuParallel.MaxThreads = 1;
        try
        {
            var one = Run();
            one.Y.ShouldBe(many.Y);
            one.Dx.ShouldBe(many.Dx);
            one.Dw.ShouldBe(many.Dw);
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    private static IEnumerable<TestCaseData> BadArguments()
    {
        TestCaseData Bad(string name, TestDelegate call, params string[] expected) =>
            new TestCaseData(call, expected).SetName($"{{m}}({name})");
        NDArray A(params int[] shape) => Nd.Zeros(new Shape(shape));
        yield return Bad("adj not below stride", () => Nd.Deconvolution(A(1, 2, 4, 4), A(2, 3, 3, 3), null, [2, 2],
            adj: [2, 0]), "conv2d_transpose", "output padding (adj) (2, 0)", "smaller than the stride");
        yield return Bad("channel mismatch", () => Nd.Deconvolution(A(1, 3, 4), A(2, 3, 3), null),
            "conv1d_transpose", "input has 3 channels", "expects 2");
        yield return Bad("weight rank", () => Nd.Deconvolution(A(1, 2, 4, 4, 4), A(2, 3, 3, 3), null),
            "conv3d_transpose", "weight must be 5-D");
        yield return Bad("negative extent", () => Nd.Deconvolution(A(1, 2, 1, 1), A(2, 3, 1, 1), null, pad: [1, 1]),
            "conv2d_transpose", "extent -1", "use less padding");
        yield return Bad("target too big", () => Nd.Deconvolution(A(1, 2, 3, 3), A(2, 3, 3, 3), null, [2, 2],
            targetShape: [9, 9]), "conv2d_transpose", "target_shape (9, 9) is too big");
        yield return Bad("groups", () => Nd.Deconvolution(A(1, 3, 4, 4), A(3, 2, 3, 3), null, groups: 2),
            "conv2d_transpose", "not divisible by num_group 2");
        yield return Bad("conv3d channels", () => Nd.Convolution(A(1, 3, 4, 4, 4), A(2, 2, 3, 3, 3), null),
            "conv3d", "input has 3 channels but weight expects 2");
        yield return Bad("conv3d kernel too big", () => Nd.Convolution(A(1, 2, 2, 4, 4), A(2, 2, 3, 3, 3), null),
            "conv3d", "spans more input positions");
        yield return Bad("conv3d stride count", () => Nd.Convolution(A(1, 2, 4, 4, 4), A(2, 2, 3, 3, 3), null,
            stride: [1, 1]), "conv3d", "stride has 2 values");
    }

    [TestCaseSource(nameof(BadArguments))]
    public void BadArgumentsAreNamed(TestDelegate call, string[] expected)
    {
        var e = Should.Throw<ArgumentException>(() => call());
        foreach (string part in expected) e.Message.ShouldContain(part);
    }

    /// <summary>
    /// Forward, data and weight gradients into buffers pre-filled with <paramref name="fill"/> (NaN: every element
    /// must be written), through the CPU kernels; on another device, through the operators there.
    /// </summary>
    private (T[] Y, T[] Dx, T[] Dw) Run3D<T>(Convolution3DDescriptor d, T[] x, T[] w, T[] b, T[] dy, T fill)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Device.Kind != DeviceKind.Cpu)
        {
            using var scope = NDArray.Scope();
            var attrs = new ConvolutionAttrs(new Dims(d.Stride.D, d.Stride.H, d.Stride.W),
                new Dims(d.Pad.D, d.Pad.H, d.Pad.W), new Dims(d.Dilation.D, d.Dilation.H, d.Dilation.W), d.Groups);
            var xa = NDArray.FromSpan<T>(x, d.InputShape, Device);
            var wa = NDArray.FromSpan<T>(w, d.WeightShape, Device);
            var dya = NDArray.FromSpan<T>(dy, d.OutputShape, Device);
            var ya = ConvolutionOps.Convolution.Call(attrs, xa, wa,
                NDArray.FromSpan<T>(b, new Shape(d.OutChannels), Device));
            var dxa = ConvolutionOps.ConvolutionBackwardData.Call(
                new ConvolutionBackwardAttrs(attrs, new Dims(d.InputShape.ToArray())), dya, wa);
            var dwa = ConvolutionOps.ConvolutionBackwardWeight.Call(
                new ConvolutionBackwardAttrs(attrs, new Dims(d.WeightShape.ToArray())), xa, dya);
            foreach (var r in new[] { ya, dxa, dwa }) r.Device.ShouldBe(Device);
            return (ya.ToArray<T>(), dxa.ToArray<T>(), dwa.ToArray<T>());
        }
        T[] y = Filled(d.OutputSize, fill), dx = Filled(d.InputSize, fill), dw = Filled(d.WeightSize, fill);
        CpuConvolution3D.Forward<T>(d, x, w, b, y);
        CpuConvolution3D.BackwardData<T>(d, dy, w, dx);
        CpuConvolution3D.BackwardWeight<T>(d, x, dy, dw);
        return (y, dx, dw);
    }

    private static T[] Filled<T>(long n, T value) => Enumerable.Repeat(value, (int)n).ToArray();

    private static float[] F(double[] v) => v.Select(e => (float)e).ToArray();
}
