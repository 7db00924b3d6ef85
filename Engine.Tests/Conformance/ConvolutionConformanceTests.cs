using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class ConvolutionConformanceTests(Device device) : DeviceFixture(device)
{
    private const string Family = "conv";

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (name, d, bias) in NamedCases())
            yield return new TestCaseData(d, bias).SetArgDisplayNames(name);
        var rng = new Random(20240611);
        for (int i = 0; i < 32; i++)
            yield return new TestCaseData(RandomDescriptor(rng), rng.Next(2) == 0).SetArgDisplayNames($"random{i}");
    }

    private static IEnumerable<(string, ConvolutionDescriptor, bool)> NamedCases()
    {
        yield return ("lenet_conv1", new(2, 1, 28, 28, 6, 5, 5), true);
        yield return ("lenet_conv2", new(2, 6, 12, 12, 16, 5, 5), true);
        yield return ("resnet_3x3_pad1", new(2, 16, 10, 10, 16, 3, 3, padH: 1, padW: 1), false);
        yield return ("stride2_pad1", new(2, 3, 9, 11, 5, 3, 3, 2, 2, 1, 1), true);
        yield return ("dilation2", new(1, 2, 11, 10, 3, 3, 3, padH: 2, padW: 2, dilationH: 2, dilationW: 2), true);
        yield return ("groups2", new(2, 4, 7, 9, 6, 3, 3, padH: 1, padW: 1, groups: 2), true);
        yield return ("depthwise", new(2, 5, 9, 9, 5, 3, 3, padH: 1, padW: 1, groups: 5), true);
        yield return ("depthwise_multiplier2_stride2", new(2, 3, 8, 7, 6, 3, 3, 2, 2, 1, 1, groups: 3), false);
        yield return ("pointwise", new(2, 7, 6, 5, 5, 1, 1), true);
        yield return ("pointwise_groups", new(1, 6, 3, 7, 4, 1, 1, groups: 2), false);
        yield return ("pointwise_stride2", new(2, 3, 7, 6, 4, 1, 1, 2, 2), true);
        yield return ("kernel_3x1", new(2, 2, 6, 5, 3, 3, 1, padH: 1), true);
        yield return ("kernel_1x5_pad_0x2", new(1, 3, 4, 9, 2, 1, 5, padW: 2), false);
        yield return ("odd_sizes", new(3, 3, 13, 19, 17, 3, 5, 2, 1, 1, 2, 1, 2), true);
        yield return ("batch1_wide", new(1, 2, 5, 37, 33, 3, 3, padH: 1, padW: 1), true);
        yield return ("kernel_fills_padded_input", new(2, 2, 3, 3, 3, 5, 5, padH: 1, padW: 1), true);
        // The kernel covers the whole input: a dense product (a DCGAN generator's first layer, transposed).
        yield return ("dense_kernel_is_input", new(3, 9, 4, 4, 7, 4, 4), true);
        yield return ("dense_kernel_is_input_stride2", new(2, 5, 3, 2, 6, 3, 2, 2, 2), false);
        yield return ("empty_batch", new(0, 3, 8, 8, 4, 3, 3), true);
        yield return ("no_output_channels", new(2, 3, 5, 5, 0, 3, 3), false);
        yield return ("no_input_channels", new(2, 0, 5, 5, 3, 3, 3), true);
        // Several column tiles per image, their edges in the middle of output rows.
        yield return ("multi_tile", new(1, 16, 36, 36, 2, 3, 3, padH: 1, padW: 1), true);
        yield return ("multi_tile_wide", new(1, 2, 48, 48, 3, 3, 3, padH: 1, padW: 1), true);
        // K > 128: several depth slices in backward data, and column tails on more than TailRows rows.
        yield return ("many_output_channels", new(1, 3, 5, 6, 136, 3, 3, padH: 1, padW: 1), true);
        yield return ("conv1d", ConvolutionDescriptor.Conv1D(2, 3, 20, 4, 3, stride: 2, pad: 1, dilation: 2), true);
        yield return ("conv1d_depthwise", ConvolutionDescriptor.Conv1D(3, 4, 17, 4, 5, pad: 2, groups: 4), true);
        yield return ("conv1d_pointwise", ConvolutionDescriptor.Conv1D(2, 5, 33, 3, 1), false);
    }

    /// <summary>Small random convolutions: any stride, padding, dilation and grouping that fits.</summary>
    private static ConvolutionDescriptor RandomDescriptor(Random rng)
    {
        while (true)
        {
            bool conv1d = rng.Next(5) == 0, depthwise = rng.Next(5) == 0;
            int groups = depthwise ? rng.Next(1, 6) : new[] { 1, 1, 2, 3 }[rng.Next(4)];
            int cg = depthwise ? 1 : rng.Next(1, 5), kg = rng.Next(1, 4);
            int n = rng.Next(5) == 0 ? 0 : rng.Next(1, 4);
            int h = conv1d ? 1 : rng.Next(1, 12), w = rng.Next(1, 20);
            int r = conv1d ? 1 : rng.Next(1, 5), s = rng.Next(1, 5);
            int sh = conv1d ? 1 : rng.Next(1, 4), sw = rng.Next(1, 4);
            int ph = conv1d ? 0 : rng.Next(0, 3), pw = rng.Next(0, 3);
            int dh = conv1d ? 1 : rng.Next(1, 3), dw = rng.Next(1, 3);
            if (dh * (r - 1) + 1 > h + 2 * ph || dw * (s - 1) + 1 > w + 2 * pw) continue;
            return conv1d
                ? ConvolutionDescriptor.Conv1D(n, cg * groups, w, kg * groups, s, sw, pw, dw, groups)
                : new ConvolutionDescriptor(n, cg * groups, h, w, kg * groups, r, s, sh, sw, ph, pw, dh, dw, groups);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Float32MatchesReference(ConvolutionDescriptor d, bool withBias)
    {
        var rng = new Random(7);
        float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
        float[] b = withBias ? TestData.Uniform(rng, d.OutChannels) : [];
        float[] dy = TestData.Uniform(rng, d.OutputSize);
        var expected = new Expected(d, ToDouble(x), ToDouble(w), withBias ? ToDouble(b) : null, ToDouble(dy));
        var (y, dx, dw, db) = RunAll(d, x, w, b, dy, float.NaN);

        int taps = d.KernelH * d.KernelW;
        long pixels = (long)d.Batch * d.OutHeight * d.OutWidth;
        TensorAssert.AllClose(y, ToSingle(expected.Y), Tolerances.Float32Sum(d.InChannelsPerGroup * taps),
            $"{d} forward");
        TensorAssert.AllClose(dx, ToSingle(expected.Dx), Tolerances.Float32Sum(d.OutChannelsPerGroup * taps),
            $"{d} backward data");
        TensorAssert.AllClose(dw, ToSingle(expected.Dw), Tolerances.Float32Sum(pixels), $"{d} backward weight");
        TensorAssert.AllClose(db, ToSingle(expected.Db), Tolerances.Float32Sum(pixels), $"{d} backward bias");
    }

    [TestCaseSource(nameof(Cases))]
    public void Float64MatchesReference(ConvolutionDescriptor d, bool withBias)
    {
        var rng = new Random(8);
        double[] x = TestData.UniformDouble(rng, d.InputSize), w = TestData.UniformDouble(rng, d.WeightSize);
        double[] b = withBias ? TestData.UniformDouble(rng, d.OutChannels) : [];
        double[] dy = TestData.UniformDouble(rng, d.OutputSize);
        var expected = new Expected(d, x, w, withBias ? b : null, dy);
        var (y, dx, dw, db) = RunAll(d, x, w, b, dy, double.NaN);

        TensorAssert.AllClose(y, expected.Y, Tolerances.Float64, $"{d} forward");
        TensorAssert.AllClose(dx, expected.Dx, Tolerances.Float64, $"{d} backward data");
        TensorAssert.AllClose(dw, expected.Dw, Tolerances.Float64, $"{d} backward weight");
        TensorAssert.AllClose(db, expected.Db, Tolerances.Float64, $"{d} backward bias");
    }

    [Test]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        RequireCpu("the thread count");
        var cases = new[]
        {
            new ConvolutionDescriptor(4, 16, 12, 12, 24, 3, 3, padH: 1, padW: 1),
            new ConvolutionDescriptor(3, 8, 15, 13, 8, 3, 3, 2, 2, 1, 1, groups: 2),
            new ConvolutionDescriptor(2, 32, 9, 9, 32, 3, 3, padH: 1, padW: 1, groups: 32),
            new ConvolutionDescriptor(8, 1, 28, 28, 6, 5, 5),
        };
        int saved = CpuParallel.MaxThreads;
        try
        {
            foreach (var d in cases)
            {
                var rng = new Random(9);
                float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
                float[] b = TestData.Uniform(rng, d.OutChannels), dy = TestData.Uniform(rng, d.OutputSize);
                CpuParallel.MaxThreads = 1;
                var one = RunAll(d, x, w, b, dy, float.NaN);
                foreach (int threads in new[] { 2, 3, 4 })
                {
                    CpuParallel.MaxThreads = threads;
                    var many = RunAll(d, x, w, b, dy, float.NaN);
                    TensorAssert.Equal<float>(many.Y, one.Y, $"{d} forward, {threads} threads");
                    TensorAssert.Equal<float>(many.Dx, one.Dx, $"{d} backward data, {threads} threads");
                    TensorAssert.Equal<float>(many.Dw, one.Dw, $"{d} backward weight, {threads} threads");
                    TensorAssert.Equal<float>(many.Db, one.Db, $"{d} backward bias, {threads} threads");
                }
            }
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    // ---- Descriptor --------------------------------------------------------------------------------------------

    [TestCase(28, 5, 1, 0, 1, 24)]
    [TestCase(12, 5, 1, 0, 1, 8)]
    [TestCase(7, 3, 2, 1, 1, 4)]
    [TestCase(8, 3, 2, 1, 1, 4)]
    [TestCase(10, 3, 1, 2, 2, 10)]
    [TestCase(5, 5, 1, 0, 1, 1)]
    [TestCase(8, 1, 3, 0, 1, 3)]
    [TestCase(1, 3, 1, 1, 1, 1)]
    public void OutputSizeFollowsTheFormula(int size, int kernel, int stride, int pad, int dilation, int expected)
    {
        var d = new ConvolutionDescriptor(1, 1, size, size + 1, 1, kernel, kernel, stride, stride, pad, pad,
            dilation, dilation);
        d.OutHeight.ShouldBe(expected);
        d.OutWidth.ShouldBe((size + 1 + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1);
    }

    [Test]
    public void DescriptorExposesTheShapes()
    {
        var d = new ConvolutionDescriptor(2, 6, 12, 12, 16, 5, 5);
        d.InputShape.ShouldBe(new Shape(2, 6, 12, 12));
        d.WeightShape.ShouldBe(new Shape(16, 6, 5, 5));
        d.BiasShape.ShouldBe(new Shape(16));
        d.OutputShape.ShouldBe(new Shape(2, 16, 8, 8));
        d.Op.ShouldBe("conv2d");
        d.ToString().ShouldBe(
            "conv2d(input (2, 6, 12, 12), weight (16, 6, 5, 5), stride (1, 1), pad (0, 0), dilation (1, 1), " +
            "groups 1) -> (2, 16, 8, 8)");

        var g = new ConvolutionDescriptor(1, 8, 5, 5, 4, 3, 3, groups: 4);
        g.WeightShape.ShouldBe(new Shape(4, 2, 3, 3));
        g.InChannelsPerGroup.ShouldBe(2);
        g.OutChannelsPerGroup.ShouldBe(1);

        var c1 = ConvolutionDescriptor.Conv1D(2, 3, 20, 4, 3, stride: 2, pad: 1, dilation: 2);
        c1.Op.ShouldBe("conv1d");
        c1.InputShape.ShouldBe(new Shape(2, 3, 20));
        c1.WeightShape.ShouldBe(new Shape(4, 3, 3));
        c1.OutputShape.ShouldBe(new Shape(2, 4, 9));
        c1.InputSize.ShouldBe(120);
        c1.OutputSize.ShouldBe(72);
    }

    [Test]
    public void FromShapesBuildsTheSameDescriptor()
    {
        ConvolutionDescriptor.FromShapes(new Shape(2, 6, 12, 12), new Shape(16, 6, 5, 5))
            .ShouldBe(new ConvolutionDescriptor(2, 6, 12, 12, 16, 5, 5));
        ConvolutionDescriptor.FromShapes(new Shape(1, 4, 9, 8), new Shape(6, 2, 3, 2), [2, 1], [1], [1, 2], 2)
            .ShouldBe(new ConvolutionDescriptor(1, 4, 9, 8, 6, 3, 2, 2, 1, 1, 1, 1, 2, 2));
        ConvolutionDescriptor.FromShapes(new Shape(2, 3, 20), new Shape(4, 3, 3), [2], [1], [2])
            .ShouldBe(ConvolutionDescriptor.Conv1D(2, 3, 20, 4, 3, 2, 1, 2));
    }

    // ---- Bad input -----------------------------------------------------------------------------------------------

    [Test]
    public void ChannelMismatchNamesBothShapes()
    {
        var e = Should.Throw<ArgumentException>(() =>
            ConvolutionDescriptor.FromShapes(new Shape(1, 3, 28, 28), new Shape(6, 1, 5, 5)));
        e.Message.ShouldStartWith(
            "conv2d: input has 3 channels but weight expects 1 (weight shape (6, 1, 5, 5), groups 1)");

        var g = Should.Throw<ArgumentException>(() =>
            ConvolutionDescriptor.FromShapes(new Shape(1, 6, 8, 8), new Shape(4, 2, 3, 3), groups: 2));
        g.Message.ShouldStartWith(
            "conv2d: input has 6 channels but weight expects 4 (weight shape (4, 2, 3, 3), groups 2)");

        var c1 = Should.Throw<ArgumentException>(() =>
            ConvolutionDescriptor.FromShapes(new Shape(1, 3, 10), new Shape(2, 2, 3)));
        c1.Message.ShouldStartWith("conv1d: input has 3 channels but weight expects 2");
    }

    [Test]
    public void FromShapesRejectsBadRanksAndAttributes()
    {
        ShouldFail<ArgumentException>(() => ConvolutionDescriptor.FromShapes(new Shape(3, 28), new Shape(6, 3, 5, 5)),
            "conv2d:", "4-D", "(3, 28)");
        ShouldFail<ArgumentException>(
            () => ConvolutionDescriptor.FromShapes(new Shape(1, 3, 8, 8), new Shape(6, 3, 5)),
            "conv2d:", "weight must be 4-D", "(6, 3, 5)");
        ShouldFail<ArgumentException>(
            () => ConvolutionDescriptor.FromShapes(new Shape(1, 3, 8), new Shape(6, 3, 5, 5)),
            "conv1d:", "weight must be 3-D");
        ShouldFail<ArgumentException>(
            () => ConvolutionDescriptor.FromShapes(new Shape(1, 3, 8, 8), new Shape(6, 3, 3, 3), [1, 1, 1]),
            "conv2d:", "stride has 3 values", "takes 2");
        ShouldFail<ArgumentOutOfRangeException>(
            () => ConvolutionDescriptor.FromShapes(new Shape(1, 3, 8, 8), new Shape(6, 3, 3, 3), groups: 0),
            "conv2d:", "groups must be positive");
        ShouldFail<ArgumentOutOfRangeException>(
            () => ConvolutionDescriptor.FromShapes(new Shape(1, 3, 8, 8), new Shape(6, 3, 3, 3), pad: [-1]),
            "conv2d:", "padding must be non-negative");
    }

    [Test]
    public void DescriptorRejectsBadArguments()
    {
        ShouldFail<ArgumentOutOfRangeException>(() => new ConvolutionDescriptor(-1, 1, 5, 5, 1, 3, 3),
            "conv2d:", "batch size must be non-negative", "-1");
        ShouldFail<ArgumentOutOfRangeException>(() => new ConvolutionDescriptor(1, 1, 5, -5, 1, 3, 3),
            "conv2d:", "input width");
        ShouldFail<ArgumentOutOfRangeException>(() => new ConvolutionDescriptor(1, 1, 5, 5, 1, 0, 3),
            "conv2d:", "kernel size must be positive", "(0, 3)");
        ShouldFail<ArgumentOutOfRangeException>(() => new ConvolutionDescriptor(1, 1, 5, 5, 1, 3, 3, 0, 1),
            "conv2d:", "stride must be positive", "(0, 1)");
        ShouldFail<ArgumentOutOfRangeException>(
            () => new ConvolutionDescriptor(1, 1, 5, 5, 1, 3, 3, dilationH: 1, dilationW: 0),
            "conv2d:", "dilation must be positive", "(1, 0)");
        ShouldFail<ArgumentOutOfRangeException>(() => new ConvolutionDescriptor(1, 1, 5, 5, 1, 3, 3, padH: -1),
            "conv2d:", "padding must be non-negative", "(-1, 0)");
        ShouldFail<ArgumentOutOfRangeException>(() => new ConvolutionDescriptor(1, 1, 5, 5, 1, 3, 3, groups: 0),
            "conv2d:", "groups must be positive");
        ShouldFail<ArgumentException>(() => new ConvolutionDescriptor(1, 3, 5, 5, 4, 3, 3, groups: 2),
            "conv2d:", "input channels 3 are not divisible by groups 2");
        ShouldFail<ArgumentException>(() => new ConvolutionDescriptor(1, 4, 5, 5, 3, 3, 3, groups: 2),
            "conv2d:", "output channels 3 are not divisible by groups 2");
    }

    [Test]
    public void KernelLargerThanThePaddedInputNamesTheSizesAndTheFix()
    {
        var e = Should.Throw<ArgumentException>(() => new ConvolutionDescriptor(1, 1, 4, 4, 6, 5, 5));
        e.Message.ShouldStartWith("conv2d: the kernel (5, 5) with dilation (1, 1) spans (5, 5) input positions");
        e.Message.ShouldContain("padded input (4, 4)");
        e.Message.ShouldContain("more padding");

        var dilated = Should.Throw<ArgumentException>(
            () => new ConvolutionDescriptor(1, 1, 9, 9, 1, 3, 3, padH: 1, padW: 1, dilationH: 6, dilationW: 1));
        dilated.Message.ShouldContain("spans (13, 3) input positions, more than the padded input (11, 11)");

        var c1 = Should.Throw<ArgumentException>(() => ConvolutionDescriptor.Conv1D(1, 1, 4, 1, 3, dilation: 2));
        c1.Message.ShouldStartWith("conv1d: the kernel 3 with dilation 2 spans 5 input positions");
        c1.Message.ShouldContain("padded input 4");
    }

    [Test]
    public void Conv1DMessagesNameConv1D()
    {
        ShouldFail<ArgumentOutOfRangeException>(() => ConvolutionDescriptor.Conv1D(1, 1, 5, 1, 3, stride: 0),
            "conv1d:", "stride must be positive, got 0");
        ShouldFail<ArgumentException>(() => ConvolutionDescriptor.Conv1D(1, 3, 5, 2, 3, groups: 2),
            "conv1d:", "not divisible by groups 2");
        var d = ConvolutionDescriptor.Conv1D(1, 2, 5, 2, 3);
        ShouldFail<ArgumentException>(() => CpuConvolution.Forward<float>(d, new float[9], new float[12], [],
            new float[6]), "conv1d:", "input has 9 elements", "(1, 2, 5)");
    }

    [Test]
    public void KernelsRejectWrongBufferSizes()
    {
        var d = new ConvolutionDescriptor(2, 3, 6, 6, 4, 3, 3);
        float[] x = new float[d.InputSize], w = new float[d.WeightSize], b = new float[4];
        float[] y = new float[d.OutputSize], dy = new float[d.OutputSize];
        ShouldFail<ArgumentException>(() => CpuConvolution.Forward<float>(d, new float[5], w, b, y),
            "conv2d:", "input has 5 elements", "needs 216", "(2, 3, 6, 6)");
        ShouldFail<ArgumentException>(() => CpuConvolution.Forward<float>(d, x, new float[107], b, y),
            "conv2d:", "weight has 107 elements", "(4, 3, 3, 3)");
        ShouldFail<ArgumentException>(() => CpuConvolution.Forward<float>(d, x, w, new float[3], y),
            "conv2d:", "bias has 3 elements but needs 4");
        ShouldFail<ArgumentException>(() => CpuConvolution.Forward<float>(d, x, w, b, new float[1]),
            "conv2d:", "output has 1 elements", "(2, 4, 4, 4)");
        ShouldFail<ArgumentException>(() => CpuConvolution.BackwardData<float>(d, new float[2], w, new float[216]),
            "conv2d:", "output gradient (dy) has 2 elements");
        ShouldFail<ArgumentException>(() => CpuConvolution.BackwardData<float>(d, dy, w, new float[3]),
            "conv2d:", "input gradient (dx) has 3 elements");
        ShouldFail<ArgumentException>(() => CpuConvolution.BackwardWeight<float>(d, x, dy, new float[3]),
            "conv2d:", "weight gradient (dw) has 3 elements");
        ShouldFail<ArgumentException>(() => CpuConvolution.BackwardWeight<float>(d, x, new float[3], w),
            "conv2d:", "output gradient (dy) has 3 elements");
        ShouldFail<ArgumentException>(() => CpuConvolution.BackwardBias<float>(d, dy, new float[5]),
            "conv2d:", "bias gradient (db) has 5 elements", "needs 4");
        Should.Throw<ArgumentNullException>(() => CpuConvolution.Forward<float>(null!, x, w, b, y));
    }

    [Test]
    public void KernelsRejectOverlappingBuffersAndUnsupportedTypes()
    {
        // A 1x1 convolution with as many output as input channels: y could alias x, which the kernel forbids.
        var d = new ConvolutionDescriptor(1, 2, 3, 3, 2, 1, 1);
        var buffer = new float[18];
        var w = new float[4];
        ShouldFail<ArgumentException>(() => CpuConvolution.Forward<float>(d, buffer, w, [], buffer),
            "conv2d:", "overlaps the input");
        ShouldFail<ArgumentException>(() => CpuConvolution.BackwardData<float>(d, buffer, w, buffer),
            "conv2d:", "overlaps the output gradient (dy)");
        ShouldFail<NotSupportedException>(() => CpuConvolution.Forward<Half>(d, new Half[18], new Half[4], [],
            new Half[18]), "conv2d:", "Half", "use float or double");
    }

    // ---- PyTorch goldens -------------------------------------------------------------------------------------

    public static IEnumerable<string> GoldenCases() => Golden.CaseNames(Family);

    [Test]
    public void GoldenCasesArePresent() =>
        GoldenCases().ShouldNotBeEmpty("run /usr/bin/python3 tools/golden/gen_conv.py to write Golden/conv");

    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorch(string name)
    {
        var c = Golden.Load(Family, name);
        int[] Ints(string key) => c.Attrs.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        bool withBias = c.Attrs.GetProperty("bias").GetBoolean();
        var d = ConvolutionDescriptor.FromShapes(c["x"].Shape, c["w"].Shape, Ints("stride"), Ints("padding"),
            Ints("dilation"), c.Attrs.GetProperty("groups").GetInt32());
        d.Op.ShouldBe(c.Attrs.GetProperty("op").GetString());
        d.OutputShape.ShouldBe(c["y"].Shape);
        float[] b = withBias ? c["b"].ToFloat32() : [];
        var (y, dx, dw, db) = RunAll(d, c["x"].ToFloat32(), c["w"].ToFloat32(), b, c["dy"].ToFloat32(), float.NaN);
        TensorAssert.AllClose(y, c["y"].ToFloat32(), Tolerances.Golden, $"{name} forward");
        TensorAssert.AllClose(dx, c["dx"].ToFloat32(), Tolerances.Golden, $"{name} dx");
        TensorAssert.AllClose(dw, c["dw"].ToFloat32(), Tolerances.Golden, $"{name} dw");
        if (withBias) TensorAssert.AllClose(db, c["db"].ToFloat32(), Tolerances.Golden, $"{name} db");
    }

    // ---- Helpers -------------------------------------------------------------------------------------------------

    /// <summary>Runs the four passes into buffers pre-filled with <paramref name="fill"/> (NaN: every element must
    /// be overwritten); on another device, through the operators there.</summary>
    private (T[] Y, T[] Dx, T[] Dw, T[] Db) RunAll<T>(ConvolutionDescriptor d, T[] x, T[] w, T[] b, T[] dy,
        T fill)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Device.Kind != DeviceKind.Cpu) return RunOperators(d, x, w, b, dy);
        T[] y = Filled(d.OutputSize, fill), dx = Filled(d.InputSize, fill);
        T[] dw = Filled(d.WeightSize, fill), db = Filled(d.OutChannels, fill);
        CpuConvolution.Forward<T>(d, x, w, b, y);
        CpuConvolution.BackwardData<T>(d, dy, w, dx);
        CpuConvolution.BackwardWeight<T>(d, x, dy, dw);
        CpuConvolution.BackwardBias<T>(d, dy, db);
        return (y, dx, dw, db);
    }

    /// <summary>The four passes as the convolution operators on <see cref="DeviceFixture.Device"/>.</summary>
    private (T[] Y, T[] Dx, T[] Dw, T[] Db) RunOperators<T>(ConvolutionDescriptor d, T[] x, T[] w, T[] b, T[] dy)
        where T : unmanaged
    {
        using var scope = NDArray.Scope();
        bool twoD = d.SpatialRank == 2;
        var attrs = new ConvolutionAttrs(
            twoD ? new Dims(d.StrideH, d.StrideW) : new Dims(d.StrideW),
            twoD ? new Dims(d.PadH, d.PadW) : new Dims(d.PadW),
            twoD ? new Dims(d.DilationH, d.DilationW) : new Dims(d.DilationW), d.Groups, NoBias: b.Length == 0);
        var xa = NDArray.FromSpan<T>(x, d.InputShape, Device);
        var wa = NDArray.FromSpan<T>(w, d.WeightShape, Device);
        var dya = NDArray.FromSpan<T>(dy, d.OutputShape, Device);
        NDArray[] inputs = b.Length == 0 ? [xa, wa] : [xa, wa, NDArray.FromSpan<T>(b, d.BiasShape, Device)];
        var y = ConvolutionOps.Convolution.Call(attrs, inputs);
        var dx = ConvolutionOps.ConvolutionBackwardData.Call(
            new ConvolutionBackwardAttrs(attrs, new Dims(d.InputShape.ToArray())), dya, wa);
        var dw = ConvolutionOps.ConvolutionBackwardWeight.Call(
            new ConvolutionBackwardAttrs(attrs, new Dims(d.WeightShape.ToArray())), xa, dya);
        var db = ConvolutionOps.ConvolutionBackwardBias.Call(NoAttrs.Instance, dya);
        foreach (var r in new[] { y, dx, dw, db }) r.Device.ShouldBe(Device);
        return (y.ToArray<T>(), dx.ToArray<T>(), dw.ToArray<T>(), db.ToArray<T>());
    }

    private sealed class Expected(ConvolutionDescriptor d, double[] x, double[] w, double[]? b, double[] dy)
    {
        public double[] Y { get; } = ConvolutionReference.Forward(d, x, w, b);

        public double[] Dx { get; } = ConvolutionReference.BackwardData(d, dy, w);

        public double[] Dw { get; } = ConvolutionReference.BackwardWeight(d, x, dy);

        public double[] Db { get; } = ConvolutionReference.BackwardBias(d, dy);
    }

    private static T[] Filled<T>(long count, T value)
    {
        var a = new T[count];
        Array.Fill(a, value);
        return a;
    }

    private static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    private static float[] ToSingle(double[] a) => Array.ConvertAll(a, v => (float)v);

    private static void ShouldFail<TException>(Action action, params string[] fragments) where TException : Exception
    {
        var e = Should.Throw<TException>(action);
        e.Message.ShouldStartWith(fragments[0]);
        foreach (string f in fragments.Skip(1)) e.Message.ShouldContain(f);
    }
}
