using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class PoolingConformanceTests(Device device) : DeviceFixture(device)
{
    private const PoolingMode Max = PoolingMode.Max;
    private const PoolingMode Avg = PoolingMode.Avg;
    private const PoolingConvention Valid = PoolingConvention.Valid;
    private const PoolingConvention Full = PoolingConvention.Full;

    private static PoolingDescriptor Pool(
        PoolingMode mode, int n, int c, int h, int w, int k, int s, int p = 0,
        PoolingConvention convention = Valid, bool countIncludePad = true) =>
        new(mode, n, c, h, w, k, k, s, s, p, p, convention, countIncludePad);

    private static IEnumerable<TestCaseData> NamedCases()
    {
        TestCaseData Case(string name, PoolingDescriptor d) => new TestCaseData(d).SetName($"{{m}}({name})");

        yield return Case("max 2x2 s2, SIMD 16 + 8 + tail", Pool(Max, 1, 2, 6, 58, 2, 2));
        yield return Case("max 2x2 s2, SIMD 16 x2 + tail", Pool(Max, 2, 3, 16, 70, 2, 2));
        yield return Case("max 2x2 s2 full, odd sizes", Pool(Max, 2, 2, 7, 37, 2, 2, convention: Full));
        yield return Case("max 2x2 s2 full, even sizes", Pool(Max, 1, 1, 4, 4, 2, 2, convention: Full));
        yield return Case("max 2x2 s2, 2x3 input", Pool(Max, 1, 3, 2, 3, 2, 2));
        yield return Case("max 3x3 s2 p1", Pool(Max, 2, 3, 9, 11, 3, 2, 1));
        yield return Case("avg 3x3 s2 p1", Pool(Avg, 2, 3, 9, 11, 3, 2, 1));
        yield return Case("avg 3x3 s2 p1 exclude pad", Pool(Avg, 2, 3, 9, 11, 3, 2, 1, countIncludePad: false));
        yield return Case("max 3x3 s2 p1 full", Pool(Max, 1, 2, 8, 10, 3, 2, 1, Full));
        yield return Case("avg 3x3 s2 p1 full", Pool(Avg, 1, 2, 8, 10, 3, 2, 1, Full));
        yield return Case("avg 3x3 s2 p1 full exclude pad", Pool(Avg, 1, 2, 8, 10, 3, 2, 1, Full, false));
        yield return Case("max 1x1 spatial", Pool(Max, 3, 4, 1, 1, 1, 1));
        yield return Case("avg 1x1 spatial", Pool(Avg, 3, 4, 1, 1, 1, 1));
        yield return Case("max kernel 1 stride 2", Pool(Max, 1, 2, 5, 6, 1, 2));
        yield return Case("max k2 s3 gaps", Pool(Max, 1, 2, 10, 11, 2, 3));
        yield return Case("avg k2 s3 gaps", Pool(Avg, 1, 2, 10, 11, 2, 3));
        yield return Case("max k2 s3 p1 full, empty last window", Pool(Max, 1, 2, 4, 5, 2, 3, 1, Full));
        yield return Case("avg k2 s3 p1 full, empty last window", Pool(Avg, 1, 2, 4, 5, 2, 3, 1, Full));
        yield return Case("avg k2 s3 p1 full, padding-only window", Pool(Avg, 1, 2, 5, 5, 2, 3, 1, Full, false));
        yield return Case("max 2x3 s1x2 p1x1", new PoolingDescriptor(Max, 2, 1, 5, 9, 2, 3, 1, 2, 1, 1));
        yield return Case("avg 2x3 s1x2 p1x1", new PoolingDescriptor(Avg, 2, 1, 5, 9, 2, 3, 1, 2, 1, 1));
        yield return Case("max 4x4 s1 p2", Pool(Max, 1, 2, 6, 7, 4, 1, 2));
        yield return Case("global max 7x7", PoolingDescriptor.Global(Max, 2, 3, 7, 7));
        yield return Case("global avg 13x17", PoolingDescriptor.Global(Avg, 2, 3, 13, 17));
        yield return Case("global avg 1x300", PoolingDescriptor.Global(Avg, 1, 2, 1, 300));
        yield return Case("global max 1x1", PoolingDescriptor.Global(Max, 2, 2, 1, 1));
        yield return Case("max 1d k3 s2 p1", PoolingDescriptor.Pool1d(Max, 2, 3, 17, 3, 2, 1));
        yield return Case("avg 1d k3 s2 p1 full", PoolingDescriptor.Pool1d(Avg, 2, 3, 16, 3, 2, 1, Full, false));
        yield return Case("max N=0", Pool(Max, 0, 3, 6, 6, 2, 2));
        yield return Case("avg N=0", Pool(Avg, 0, 3, 5, 5, 3, 2, 1));
        yield return Case("max C=0", Pool(Max, 2, 0, 5, 5, 3, 1));
        yield return Case("global avg N=0", PoolingDescriptor.Global(Avg, 0, 3, 4, 4));
    }

    [TestCaseSource(nameof(NamedCases))]
    public void NamedCaseMatchesReferenceInFloat(PoolingDescriptor d) => CheckFloat(d, seed: 1);

    [TestCaseSource(nameof(NamedCases))]
    public void NamedCaseMatchesReferenceInDouble(PoolingDescriptor d) => CheckDouble(d, seed: 2);

    [TestCase(Max)]
    [TestCase(Avg)]
    public void RandomShapesMatchReference(PoolingMode mode)
    {
        var rng = new Random(mode == Max ? 11 : 12);
        for (int i = 0; i < 150; i++)
        {
            var d = RandomDescriptor(rng, mode);
            CheckFloat(d, seed: i);
            CheckDouble(d, seed: i);
        }
    }

    [Test]
    public void OutputSizeFollowsMxnet()
    {
        // (size, kernel, stride, pad) -> (valid, full)
        int[][] table =
        [
            [5, 2, 2, 0, 2, 3],
            [4, 2, 2, 0, 2, 2],
            [7, 3, 2, 1, 4, 4],
            [8, 3, 2, 1, 4, 5],
            [4, 2, 3, 1, 2, 3],
            [1, 1, 1, 0, 1, 1],
            [6, 3, 3, 0, 2, 2],
            [3, 3, 1, 1, 3, 3],
        ];
        foreach (int[] r in table)
        {
            Pool(Max, 1, 1, r[0], r[0], r[1], r[2], r[3], Valid).OutH.ShouldBe(r[4], $"valid {string.Join(",", r)}");
            Pool(Max, 1, 1, r[0], r[0], r[1], r[2], r[3], Full).OutW.ShouldBe(r[5], $"full {string.Join(",", r)}");
            PoolingReference.OutputSize(r[0], r[1], r[2], r[3], Valid).ShouldBe(r[4]);
            PoolingReference.OutputSize(r[0], r[1], r[2], r[3], Full).ShouldBe(r[5]);
        }
    }

    [Test]
    public void DescriptorReportsShapes()
    {
        var g = PoolingDescriptor.Global(Avg, 2, 3, 5, 6);
        g.OutputShape.ShouldBe(new Shape(2, 3, 1, 1));
        (g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW).ShouldBe((5, 6, 1, 1, 0, 0));
        g.IsGlobal.ShouldBeTrue();

        var p = Pool(Max, 2, 3, 9, 11, 3, 2, 1);
        p.InputShape.ShouldBe(new Shape(2, 3, 9, 11));
        p.OutputShape.ShouldBe(new Shape(2, 3, 5, 6));
        p.OpName.ShouldBe("max_pool2d");

        var d1 = PoolingDescriptor.Pool1d(Avg, 2, 3, 17, 3, 2, 1);
        d1.InputShape.ShouldBe(new Shape(2, 3, 17));
        d1.OutputShape.ShouldBe(new Shape(2, 3, 9));
        (d1.H, d1.KernelH, d1.OutH).ShouldBe((1, 1, 1));
        d1.OpName.ShouldBe("avg_pool1d");
    }

    [TestCase(Max)]
    [TestCase(Avg)]
    public void WindowPastThePaddedInputYieldsZeroAndNoGradient(PoolingMode mode)
    {
        // H = W = 4, kernel 2, stride 3, pad 1, 'full': windows start at -1, 2 and 5; the last covers nothing.
        var d = Pool(mode, 1, 1, 4, 4, 2, 3, 1, Full);
        d.OutH.ShouldBe(3);
        var x = Enumerable.Range(1, 16).Select(v => (float)v).ToArray();
        var y = new float[9];
        CpuPooling.Forward<float>(d, x, y);
        for (int i = 0; i < 3; i++)
        {
            y[2 * 3 + i].ShouldBe(0f);
            y[i * 3 + 2].ShouldBe(0f);
        }
        y[0].ShouldBe(mode == Max ? 1f : 0.25f); // top-left window holds x[0, 0] = 1 and three padding cells
        var dy = Enumerable.Repeat(1f, 9).ToArray();
        var dx = new float[16];
        CpuPooling.Backward<float>(d, x, y, dy, dx);
        dx.Sum().ShouldBe(mode == Max ? 4f : 0.25f + 2 * 0.5f + 1f, 1e-6);
    }

    [Test]
    public void MaxGradientGoesToTheFirstMaximalElement()
    {
        // All ties: each 3x3 window (stride 1) sends its gradient to its top-left element.
        var d = Pool(Max, 1, 1, 4, 4, 3, 1);
        var x = Enumerable.Repeat(1f, 16).ToArray();
        var y = new float[4];
        CpuPooling.Forward<float>(d, x, y);
        float[] dy = [1, 2, 4, 8];
        var dx = new float[16];
        CpuPooling.Backward<float>(d, x, y, dy, dx);
        dx.ShouldBe([1, 2, 0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

        // The 2x2 stride-2 path: ties in the second row do not move the gradient off the first row.
        var d2 = Pool(Max, 1, 1, 2, 4, 2, 2);
        float[] x2 = [3, 1, 0, 5, 3, 3, 5, 5];
        var y2 = new float[2];
        CpuPooling.Forward<float>(d2, x2, y2);
        y2.ShouldBe([3f, 5f]);
        var dx2 = new float[8];
        CpuPooling.Backward<float>(d2, x2, y2, [1f, 1f], dx2);
        dx2.ShouldBe([1, 0, 0, 1, 0, 0, 0, 0]);
    }

    [TestCase(2, 2, 0, false)]
    [TestCase(3, 2, 1, false)]
    [TestCase(0, 0, 0, true)]
    public void MaxPropagatesNaN(int kernel, int stride, int pad, bool global)
    {
        const int h = 6, w = 40;
        var d = global ? PoolingDescriptor.Global(Max, 1, 1, h, w) : Pool(Max, 1, 1, h, w, kernel, stride, pad);
        var x = TestData.Uniform(new Random(5), h * w);
        int nan = 3 * w + 21;
        x[nan] = float.NaN;
        var y = new float[d.OutputLength];
        CpuPooling.Forward<float>(d, x, y);
        var yd = PoolingReference.Forward(d, x.Select(v => (double)v).ToArray());
        for (int i = 0; i < y.Length; i++)
        {
            // The reference ignores NaN; the kernel returns NaN exactly for the windows holding it.
            if (float.IsNaN(y[i])) continue;
            y[i].ShouldBe((float)yd[i], $"output {i}");
        }
        int nanCount = y.Count(float.IsNaN);
        nanCount.ShouldBeGreaterThan(0);
        var dy = Enumerable.Repeat(1f, y.Length).ToArray();
        var dx = new float[x.Length];
        CpuPooling.Backward<float>(d, x, y, dy, dx);
        dx[nan].ShouldBe(nanCount);
    }

    [TestCase(Avg, false)]
    [TestCase(Avg, true)]
    [TestCase(Max, false)]
    public void BackwardMatchesFiniteDifferences(PoolingMode mode, bool full)
    {
        var rng = new Random(21);
        PoolingDescriptor[] descs =
        [
            Pool(mode, 2, 2, 7, 8, 3, 2, 1, full ? Full : Valid),
            Pool(mode, 1, 2, 6, 5, 3, 2, 1, full ? Full : Valid, countIncludePad: false),
            new(mode, 1, 1, 5, 9, 2, 3, 1, 2, 1, 1, full ? Full : Valid),
            PoolingDescriptor.Global(mode, 2, 1, 3, 4),
        ];
        foreach (var d in descs)
        {
            // Distinct values spaced far above eps keep every max window tie-free under the perturbation.
            var x = Enumerable.Range(0, (int)d.InputLength).Select(i => i * 0.01).OrderBy(_ => rng.Next()).ToArray();
            var r = TestData.UniformDouble(rng, d.OutputLength);
            var y = new double[d.OutputLength];
            var dx = new double[d.InputLength];
            CpuPooling.Forward<double>(d, x, y);
            CpuPooling.Backward<double>(d, x, y, r, dx);
            const double eps = 1e-4;
            for (int i = 0; i < x.Length; i++)
            {
                double keep = x[i];
                x[i] = keep + eps;
                double up = Loss(d, x, r);
                x[i] = keep - eps;
                double down = Loss(d, x, r);
                x[i] = keep;
                double numeric = (up - down) / (2 * eps);
                Math.Abs(dx[i] - numeric).ShouldBeLessThan(1e-8, $"{d}: dx[{i}]");
            }
        }
    }

    [Test]
    public void ResultsDoNotDependOnThreadCount()
    {
        PoolingDescriptor[] descs =
        [
            Pool(Max, 4, 16, 32, 32, 3, 2, 1),
            Pool(Avg, 4, 16, 32, 32, 3, 2, 1, Full),
            Pool(Max, 4, 16, 32, 32, 2, 2),
            PoolingDescriptor.Global(Avg, 4, 16, 32, 32),
        ];
        int saved = CpuParallel.MaxThreads;
        try
        {
            foreach (var d in descs)
            {
                var rng = new Random(3);
                var x = TestData.Uniform(rng, d.InputLength);
                var dy = TestData.Uniform(rng, d.OutputLength);
                CpuParallel.MaxThreads = 1;
                var (y1, dx1) = Run(d, x, dy);
                CpuParallel.MaxThreads = 4;
                var (y4, dx4) = Run(d, x, dy);
                TensorAssert.Equal<float>(y4, y1, $"{d} forward");
                TensorAssert.Equal<float>(dx4, dx1, $"{d} backward");
            }
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    [Test]
    public void EmptyBuffersDoNothing()
    {
        var d = Pool(Max, 0, 3, 6, 6, 2, 2);
        d.InputLength.ShouldBe(0);
        d.OutputLength.ShouldBe(0);
        CpuPooling.Forward<float>(d, [], []);
        CpuPooling.Backward<float>(d, [], [], [], []);
        CpuPooling.Forward<double>(PoolingDescriptor.Global(Avg, 2, 0, 3, 3), [], []);
        // Through the operator: an empty batch pools to an empty batch of the right shape, and back.
        using var x = Nd.Zeros(new Shape(0, 3, 6, 6));
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = Nd.MaxPool2D(x);
        y.Shape.ShouldBe(new Shape(0, 3, 3, 3));
        y.Backward();
        x.Grad!.Shape.ShouldBe(new Shape(0, 3, 6, 6));
        y.Dispose();
    }

    [Test]
    public void MatchesPyTorchGoldenCases()
    {
        var names = Golden.CaseNames("pool").ToList();
        names.ShouldNotBeEmpty("no golden files in Golden/pool; run tools/golden/gen_pool.py");
        foreach (string name in names)
        {
            var c = Golden.Load("pool", name);
            var shape = c["x"].Shape;
            var a = c.Attrs;
            var mode = a.GetProperty("mode").GetString() == "max" ? Max : Avg;
            int[] k = Ints(a, "kernel"), s = Ints(a, "stride"), p = Ints(a, "pad");
            var d = a.GetProperty("global").GetBoolean()
                ? PoolingDescriptor.Global(mode, shape[0], shape[1], shape[2], shape[3])
                : new PoolingDescriptor(mode, shape[0], shape[1], shape[2], shape[3], k[0], k[1], s[0], s[1],
                    p[0], p[1], a.GetProperty("ceil_mode").GetBoolean() ? Full : Valid,
                    a.GetProperty("count_include_pad").GetBoolean());
            d.OutputShape.ShouldBe(c["y"].Shape, name);
            var (y, dx) = Run(d, c["x"].ToFloat32(), c["dy"].ToFloat32());
            TensorAssert.AllClose(y, c["y"].ToFloat32(), Tolerances.Golden, $"{name} forward");
            TensorAssert.AllClose(dx, c["dx"].ToFloat32(), Tolerances.Golden, $"{name} backward");
        }
    }

    private static IEnumerable<TestCaseData> BadDescriptors()
    {
        TestCaseData Bad<TException>(string name, Func<PoolingDescriptor> make, params string[] expected)
            where TException : ArgumentException =>
            new TestCaseData(typeof(TException), new TestDelegate(() => make()), expected).SetName($"{{m}}({name})");

        yield return Bad<ArgumentOutOfRangeException>("kernel 0",
            () => new(Max, 1, 1, 4, 4, 0, 2, 1, 1), "max_pool2d:", "kernel height must be positive, got 0");
        yield return Bad<ArgumentOutOfRangeException>("stride 0",
            () => new(Avg, 1, 1, 4, 4, 2, 2, 1, 0), "avg_pool2d:", "stride width must be positive, got 0");
        yield return Bad<ArgumentOutOfRangeException>("negative padding",
            () => new(Max, 1, 1, 4, 4, 3, 3, 1, 1, -1, 0), "max_pool2d:", "padding height must be non-negative");
        yield return Bad<ArgumentException>("padding over half the kernel",
            () => new(Avg, 1, 1, 8, 8, 3, 3, 1, 1, 0, 2), "avg_pool2d:", "padding width 2 is more than half",
            "at most 1");
        yield return Bad<ArgumentException>("kernel larger than padded input",
            () => new(Max, 1, 1, 3, 8, 6, 2, 1, 1, 1, 0), "max_pool2d:",
            "kernel height 6 is larger than the padded input height 5");
        yield return Bad<ArgumentException>("kernel over an empty plane",
            () => new(Max, 1, 1, 0, 8, 1, 1, 1, 1), "max_pool2d:", "larger than the padded input height 0");
        yield return Bad<ArgumentOutOfRangeException>("negative batch",
            () => new(Max, -1, 1, 4, 4, 2, 2, 2, 2), "max_pool2d:", "non-negative", "(-1, 1, 4, 4)");
        yield return Bad<ArgumentException>("global over an empty plane",
            () => PoolingDescriptor.Global(Avg, 1, 1, 0, 3), "avg_pool2d:", "global pooling needs a non-empty plane");
        yield return Bad<ArgumentOutOfRangeException>("unknown mode",
            () => new((PoolingMode)7, 1, 1, 4, 4, 2, 2, 2, 2), "pooling:", "unknown pooling mode 7");
        yield return Bad<ArgumentOutOfRangeException>("unknown convention",
            () => new(Max, 1, 1, 4, 4, 2, 2, 2, 2, 0, 0, (PoolingConvention)3), "pooling:",
            "unknown pooling convention");
        yield return Bad<ArgumentException>("1-D kernel too large",
            () => PoolingDescriptor.Pool1d(Max, 1, 1, 3, 5, 1), "max_pool1d:",
            "kernel 5 is larger than the padded input 3");
    }

    [TestCaseSource(nameof(BadDescriptors))]
    public void BadDescriptorIsRejected(Type exceptionType, TestDelegate make, string[] expected)
    {
        var e = Assert.Throws(exceptionType, make)!;
        e.Message.ShouldStartWith(expected[0]);
        foreach (string part in expected) e.Message.ShouldContain(part);
    }

    private static IEnumerable<TestCaseData> BadCalls()
    {
        var d = Pool(Max, 1, 2, 4, 4, 2, 2); // x: 32 elements, y: 8
        var a = Pool(Avg, 1, 2, 4, 4, 2, 2);
        TestCaseData Bad<TException>(string name, TestDelegate call, params string[] expected)
            where TException : ArgumentException =>
            new TestCaseData(typeof(TException), call, expected).SetName($"{{m}}({name})");

        yield return Bad<ArgumentException>("forward x too short",
            () => CpuPooling.Forward<float>(d, new float[31], new float[8]), "max_pool2d:",
            "input x has 31 elements", "needs 32", "(1, 2, 4, 4)");
        yield return Bad<ArgumentException>("forward y too long",
            () => CpuPooling.Forward<float>(a, new float[32], new float[9]), "avg_pool2d:",
            "output y has 9 elements", "needs 8", "(1, 2, 2, 2)");
        yield return Bad<ArgumentException>("backward dy wrong",
            () => CpuPooling.Backward<double>(d, new double[32], new double[8], new double[7], new double[32]),
            "max_pool2d:", "output gradient dy has 7 elements");
        yield return Bad<ArgumentException>("backward dx wrong",
            () => CpuPooling.Backward<double>(d, new double[32], new double[8], new double[8], new double[2]),
            "max_pool2d:", "input gradient dx has 2 elements");
        yield return Bad<ArgumentException>("backward y wrong",
            () => CpuPooling.Backward<float>(a, new float[32], new float[0], new float[8], new float[32]),
            "avg_pool2d:", "output y has 0 elements");
        yield return Bad<ArgumentException>("forward in place",
            () =>
            {
                var buf = new float[40];
                CpuPooling.Forward<float>(d, buf.AsSpan(0, 32), buf.AsSpan(30, 8));
            }, "max_pool2d:", "overlaps");
        yield return Bad<ArgumentException>("backward dx aliases dy",
            () =>
            {
                var buf = new float[32];
                CpuPooling.Backward<float>(d, new float[32], new float[8], buf.AsSpan(0, 8), buf);
            }, "max_pool2d:", "overlaps");
        yield return Bad<ArgumentException>("half precision",
            () => CpuPooling.Forward<Half>(d, new Half[32], new Half[8]), "max_pool2d:", "Half is not supported");
        yield return Bad<ArgumentNullException>("null descriptor",
            () => CpuPooling.Forward<float>(null!, new float[1], new float[1]), "Value cannot be null");
    }

    [TestCaseSource(nameof(BadCalls))]
    public void BadKernelCallIsRejected(Type exceptionType, TestDelegate call, string[] expected)
    {
        var e = Assert.Throws(exceptionType, call)!;
        e.Message.ShouldStartWith(expected[0]);
        foreach (string part in expected) e.Message.ShouldContain(part);
    }

    private static PoolingDescriptor RandomDescriptor(Random rng, PoolingMode mode)
    {
        int n = rng.Next(10) == 0 ? 0 : rng.Next(1, 3), c = rng.Next(1, 4);
        int h = rng.Next(4) == 0 ? 1 : rng.Next(1, 13), w = rng.Next(4) == 0 ? 1 : rng.Next(1, 21);
        if (rng.Next(8) == 0) return PoolingDescriptor.Global(mode, n, c, h, w);
        int kh = rng.Next(1, Math.Min(5, h + 1) + 1), kw = rng.Next(1, Math.Min(5, w + 1) + 1);
        int ph = rng.Next(0, kh / 2 + 1), pw = rng.Next(0, kw / 2 + 1);
        kh = Math.Min(kh, h + 2 * ph);
        kw = Math.Min(kw, w + 2 * pw);
        ph = Math.Min(ph, kh / 2);
        pw = Math.Min(pw, kw / 2);
        return new PoolingDescriptor(mode, n, c, h, w, kh, kw, rng.Next(1, 4), rng.Next(1, 4), ph, pw,
            rng.Next(2) == 0 ? Valid : Full, countIncludePad: rng.Next(2) == 0);
    }

    // Float kernels against the double reference on float inputs: max is exact, and a sum over a window (or the
    // gradients of overlapping windows) rounds like any float sum of that many terms.
    [Test]
    public void MaxPool2x2BackwardVectorPathHandlesTiesAndNaN()
    {
        // Width 72: two 16-window vector blocks and a scalar tail per row pair; ReLU-like zeros make ties.
        var d = new PoolingDescriptor(PoolingMode.Max, 2, 3, 6, 72, 2, 2, 2, 2);
        var rng = new Random(5);
        var x = ReluLikeInput(d, rng);
        x[72 * 2 + 10] = float.NaN;
        x[72 * 4 + 70] = float.NaN;
        CheckBackwardExactly(d, x, rng);
    }

    [TestCase(24, 24, false, TestName = "MaxPool2x2BackwardNarrowPlanes(LeNet 24x24)")]
    [TestCase(8, 8, false, TestName = "MaxPool2x2BackwardNarrowPlanes(LeNet 8x8)")]
    [TestCase(7, 10, false, TestName = "MaxPool2x2BackwardNarrowPlanes(odd height 7x10)")]
    [TestCase(24, 24, true, TestName = "MaxPool2x2BackwardNarrowPlanes(24x24 with NaN)")]
    [TestCase(12, 6, true, TestName = "MaxPool2x2BackwardNarrowPlanes(12x6 with NaN in the tail)")]
    public void MaxPool2x2BackwardNarrowPlanes(int h, int w, bool withNaN)
    {
        // Planes with fewer than 16 windows a row: 8-wide planes run two row pairs a step, rows of whole
        // four-window vectors run in place, and other row pairs are staged into two long rows. dx starts as NaN, so
        // every element must be written. ReLU-like zeros make ties; NaN sends the plane down the window-by-window path.
        var d = new PoolingDescriptor(PoolingMode.Max, 3, 2, h, w, 2, 2, 2, 2);
        var rng = new Random(h * 100 + w);
        var x = ReluLikeInput(d, rng);
        if (withNaN)
        {
            // At the top left of their windows, where the reference (which skips NaN) also puts the gradient; the
            // kernel sends a window's gradient to its first NaN.
            x[h * w + 2] = float.NaN;            // plane 1, first row pair
            x[x.Length - 2 * w + 2] = float.NaN; // last plane, last row pair
        }
        CheckBackwardExactly(d, x, rng);
    }

    [TestCase(1, 3, 6, false, TestName = "MaxPool2x2BackwardEightWidePlanes(9 row pairs: an odd last one)")]
    [TestCase(2, 5, 8, true, TestName = "MaxPool2x2BackwardEightWidePlanes(8x8 with NaN)")]
    [TestCase(1, 1, 2, true, TestName = "MaxPool2x2BackwardEightWidePlanes(one row pair with NaN)")]
    public void MaxPool2x2BackwardEightWidePlanes(int n, int c, int h, bool withNaN)
    {
        // 8-wide planes run two row pairs (eight windows) a step with AVX2 and AVX-512, across plane boundaries;
        // a step holding a NaN and an odd last row pair take the row path. dx starts as NaN (see Run).
        var d = new PoolingDescriptor(PoolingMode.Max, n, c, h, 8, 2, 2, 2, 2);
        var rng = new Random(n * 100 + c * 10 + h);
        var x = ReluLikeInput(d, rng);
        if (withNaN)
        {
            x[3] = float.NaN;                  // first row pair, top right of window 1
            x[x.Length - 1] = float.NaN;       // last row pair, bottom right of the last window
            if (x.Length > 64) x[64 + 8 + 4] = float.NaN; // plane 1's first row pair, bottom left of window 2
        }
        var dy = new float[d.OutputLength];
        for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextSingle() + 0.5f;
        var (_, dx) = Run(d, x, dy);
        // The kernels send a window's gradient to its first NaN; the reference skips NaN, so it is checked apart.
        var expected = PoolingReference.Backward(d, x.Select(v => float.IsNaN(v) ? -1.0 : v).ToArray(),
            dy.Select(v => (double)v).ToArray());
        for (int i = 0; i < x.Length; i++)
        {
            if (!float.IsNaN(x[i])) continue;
            int window = (i / 16) * 4 + i % 8 / 2;
            for (int e = 0; e < 4; e++) expected[(i / 16) * 16 + e / 2 * 8 + (i % 8 / 2) * 2 + e % 2] = 0;
            expected[i] = dy[window];
        }
        TensorAssert.AllClose(dx, expected.Select(v => (float)v).ToArray(), Tolerances.Exact, "8-wide 2x2 backward");
    }

    /// <summary>Small integers clamped at zero, as after a ReLU: many ties within windows.</summary>
    private static float[] ReluLikeInput(PoolingDescriptor d, Random rng)
    {
        var x = new float[d.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Max(0, MathF.Round(rng.NextSingle() * 4 - 2));
        return x;
    }

    /// <summary>Backward with a random positive dy, equal to the reference exactly (max routes, never sums).</summary>
    private static void CheckBackwardExactly(PoolingDescriptor d, float[] x, Random rng)
    {
        var dy = new float[d.OutputLength];
        for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextSingle() + 0.5f;
        var (_, dx) = Run(d, x, dy);
        var expected = PoolingReference.Backward(d, x.Select(v => (double)v).ToArray(),
            dy.Select(v => (double)v).ToArray());
        TensorAssert.AllClose(dx, expected.Select(v => (float)v).ToArray(), Tolerances.Exact, "2x2 backward");
    }

    private static void CheckFloat(PoolingDescriptor d, int seed)
    {
        var rng = new Random(seed);
        var x = TestData.Uniform(rng, d.InputLength);
        var dy = TestData.Uniform(rng, d.OutputLength);
        var (y, dx) = Run(d, x, dy);
        double[] xd = ToDouble(x), dyd = ToDouble(dy);
        long terms = (long)d.KernelH * d.KernelW;
        var forwardTol = d.Mode == Max ? Tolerances.Exact : Tolerances.Float32Sum(terms);
        TensorAssert.AllClose(ToDouble(y), PoolingReference.Forward(d, xd), forwardTol, $"{d} forward (float)");
        TensorAssert.AllClose(ToDouble(dx), PoolingReference.Backward(d, xd, dyd), Tolerances.Float32Sum(terms),
            $"{d} backward (float)");
    }

    private static void CheckDouble(PoolingDescriptor d, int seed)
    {
        var rng = new Random(seed);
        var x = TestData.UniformDouble(rng, d.InputLength);
        var dy = TestData.UniformDouble(rng, d.OutputLength);
        var y = new double[d.OutputLength];
        var dx = Enumerable.Repeat(double.NaN, (int)d.InputLength).ToArray(); // Backward must overwrite dx
        CpuPooling.Forward<double>(d, x, y);
        CpuPooling.Backward<double>(d, x, y, dy, dx);
        TensorAssert.AllClose(y, PoolingReference.Forward(d, x), Tolerances.Float64, $"{d} forward (double)");
        TensorAssert.AllClose(dx, PoolingReference.Backward(d, x, dy), Tolerances.Float64, $"{d} backward (double)");
    }

    private static (float[] Y, float[] Dx) Run(PoolingDescriptor d, float[] x, float[] dy)
    {
        var y = Enumerable.Repeat(float.NaN, (int)d.OutputLength).ToArray();
        var dx = Enumerable.Repeat(float.NaN, (int)d.InputLength).ToArray();
        CpuPooling.Forward<float>(d, x, y);
        CpuPooling.Backward<float>(d, x, y, dy, dx);
        return (y, dx);
    }

    private static double Loss(PoolingDescriptor d, double[] x, double[] r)
    {
        var y = new double[d.OutputLength];
        CpuPooling.Forward<double>(d, x, y);
        return y.Zip(r, (a, b) => a * b).Sum();
    }

    private static double[] ToDouble(float[] a) => a.Select(v => (double)v).ToArray();

    private static int[] Ints(System.Text.Json.JsonElement attrs, string key) =>
        attrs.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
