using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// 3-D pooling (and 1-D through the operator) against the naive N-d reference and PyTorch goldens
/// (tools/golden/gen_pool.py, Golden/pool_nd), forward and backward. On another device the kernel table runs the
/// pooling operators there.
/// </summary>
[Category("Conformance")]
public class PoolingNdConformanceTests(Device device) : DeviceFixture(device)
{
    private const string Family = "pool_nd";

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, PoolingMode mode, int[] x, int[] k, int[] s, int[] p, bool full = false,
            bool includePad = true) =>
            new TestCaseData(mode, x, k, s, p, full, includePad).SetName($"{{m}}({name})");
        yield return Case("max 2 s2", PoolingMode.Max, [2, 3, 4, 6, 5], [2, 2, 2], [2, 2, 2], [0, 0, 0]);
        yield return Case("max 3 s2 p1 full", PoolingMode.Max, [1, 2, 5, 6, 7], [3, 3, 3], [2, 2, 2], [1, 1, 1],
            true);
        yield return Case("avg 3 s2 p1", PoolingMode.Avg, [1, 2, 5, 6, 7], [3, 3, 3], [2, 2, 2], [1, 1, 1]);
        yield return Case("avg rect exclude pad full", PoolingMode.Avg, [2, 1, 6, 5, 7], [2, 3, 3], [2, 1, 2],
            [1, 1, 0], true, false);
        yield return Case("avg k2 s3 p1 full, empty last window", PoolingMode.Avg, [1, 2, 4, 5, 4], [2, 2, 2],
            [3, 3, 3], [1, 1, 1], true);
        yield return Case("max k2 s3 p1 full, empty last window", PoolingMode.Max, [1, 2, 4, 5, 4], [2, 2, 2],
            [3, 3, 3], [1, 1, 1], true);
        yield return Case("max 1x1x1", PoolingMode.Max, [2, 2, 1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0]);
    }

    [TestCaseSource(nameof(Cases))]
    public void Pool3DMatchesReference(PoolingMode mode, int[] xs, int[] k, int[] s, int[] p, bool full,
        bool includePad)
    {
        var d = new Pooling3DDescriptor(mode, xs[0], xs[1], new Size3(xs[2], xs[3], xs[4]), new Size3(k[0], k[1], k[2]),
            new Size3(s[0], s[1], s[2]), new Size3(p[0], p[1], p[2]),
            full ? PoolingConvention.Full : PoolingConvention.Valid, includePad);
        var ys = PoolingNdReference.OutputShape(xs, k, s, p, full);
        d.OutputShape.ShouldBe(new Shape(ys));
        // Distinct values, so no window has a tie and the first maximum is unambiguous.
        var rng = new Random(3);
        double[] x = Enumerable.Range(0, (int)d.InputLength).Select(i => i * 0.01 - 1).OrderBy(_ => rng.Next())
            .ToArray();
        double[] dy = TestData.UniformDouble(rng, d.OutputLength);
        var (expectedY, expectedDx) = PoolingNdReference.Run(x, xs, dy, mode, k, s, p, full, includePad);
        var (y, dx) = Run(d, new PoolingAttrs(mode, new Dims(k), new Dims(s), new Dims(p), false,
            d.Convention, includePad), x, dy, double.NaN);
        TensorAssert.AllClose(y, expectedY, Tolerances.Float64, "forward");
        TensorAssert.AllClose(dx, expectedDx, Tolerances.Float64, "backward");
    }

    [Test]
    public void MaxGradientGoesToTheFirstMaximalElementAndNaNPropagates()
    {
        var d = new Pooling3DDescriptor(PoolingMode.Max, 1, 1, new Size3(2, 2, 2), Size3.All(2), Size3.All(2),
            Size3.All(0));
        var attrs = new PoolingAttrs(PoolingMode.Max, new Dims(2, 2, 2), new Dims(2, 2, 2),
            new Dims(0, 0, 0));
        float[] x = [1, 3, 3, 0, 3, 0, 0, 0];
        var (y, dx) = Run(d, attrs, x, [1f], 0f);
        y[0].ShouldBe(3f);
        dx.ShouldBe([0f, 1, 0, 0, 0, 0, 0, 0]);
        x[5] = float.NaN;
        (y, dx) = Run(d, attrs, x, [1f], 0f);
        float.IsNaN(y[0]).ShouldBeTrue();
        dx.ShouldBe([0f, 0, 0, 0, 0, 1, 0, 0]);
    }

    public static IEnumerable<string> GoldenCases() => Golden.CaseNames(Family);

    [Test]
    public void GoldenCasesArePresent() =>
        GoldenCases().Count().ShouldBeGreaterThanOrEqualTo(12, "run /usr/bin/python3 tools/golden/gen_pool.py");

    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorch(string name)
    {
        using var scope = NDArray.Scope();
        var c = Golden.Load(Family, name);
        int[] Ints(string key) => c.Attrs.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var mode = c.Attrs.GetProperty("mode").GetString() == "max" ? PoolingMode.Max : PoolingMode.Avg;
        var x = Nd.Array(c["x"].ToFloat32(), c["x"].Shape);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record())
        {
            y = Nd.Pooling(x, Ints("kernel"), mode, Ints("stride"), Ints("pad"),
                c.Attrs.GetProperty("global").GetBoolean(),
                c.Attrs.GetProperty("ceil_mode").GetBoolean() ? PoolingConvention.Full : PoolingConvention.Valid,
                c.Attrs.GetProperty("count_include_pad").GetBoolean());
        }
        y.Shape.ShouldBe(c["y"].Shape);
        Engine.Autograd.Backward([y], [Nd.Array(c["dy"].ToFloat32(), c["dy"].Shape)]);
        TensorAssert.AllClose(y.ToArray<float>(), c["y"].ToFloat32(), Tolerances.Golden, $"{name} forward");
        TensorAssert.AllClose(x.Grad!.ToArray<float>(), c["dx"].ToFloat32(), Tolerances.Golden, $"{name} dx");
    }

    /// <summary>
    /// Forward and backward into buffers pre-filled with <paramref name="fill"/>, through the CPU kernels; on another
    /// device, through the pooling operators there.
    /// </summary>
    private (T[] Y, T[] Dx) Run<T>(Pooling3DDescriptor d, PoolingAttrs attrs, T[] x, T[] dy, T fill)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Device.Kind != DeviceKind.Cpu)
        {
            using var scope = NDArray.Scope();
            var xa = NDArray.FromSpan<T>(x, d.InputShape, Device);
            var ya = PoolingOps.Pooling.Call(attrs, xa);
            var dxa = PoolingOps.PoolingBackward.Call(attrs, xa, ya,
                NDArray.FromSpan<T>(dy, d.OutputShape, Device));
            ya.Device.ShouldBe(Device);
            return (ya.ToArray<T>(), dxa.ToArray<T>());
        }
        T[] y = Enumerable.Repeat(fill, (int)d.OutputLength).ToArray();
        T[] dx = Enumerable.Repeat(fill, (int)d.InputLength).ToArray();
        CpuPooling3D.Forward<T>(d, x, y);
        CpuPooling3D.Backward<T>(d, x, y, dy, dx);
        return (y, dx);
    }

    private static IEnumerable<TestCaseData> BadArguments()
    {
        TestCaseData Bad(string name, TestDelegate call, params string[] expected) =>
            new TestCaseData(call, expected).SetName($"{{m}}({name})");
        NDArray A(params int[] shape) => Nd.Zeros(new Shape(shape));
        yield return Bad("pad over half the kernel", () => Nd.Pooling(A(1, 1, 4, 4, 4), [2, 2, 2],
            PoolingMode.Max, [1, 1, 1], [0, 2, 0]), "max_pool3d", "padding height 2 is more than half");
        yield return Bad("kernel past input", () => Nd.Pooling(A(1, 1, 2, 4, 4), [3, 2, 2], PoolingMode.Avg,
            [1, 1, 1], [0, 0, 0]), "avg_pool3d", "kernel depth 3 is larger than the padded input");
        yield return Bad("kernel count", () => Nd.Pooling(A(1, 1, 4, 4, 4), [2, 2], PoolingMode.Max),
            "max_pool3d", "must each have 3 values");
        yield return Bad("rank 6", () => Nd.Pooling(A(1, 1, 2, 2, 2, 2), [1, 1, 1, 1], PoolingMode.Max),
            "max_pool", "rank 5");
    }

    [TestCaseSource(nameof(BadArguments))]
    public void BadArgumentsAreNamed(TestDelegate call, string[] expected)
    {
        var e = Should.Throw<ArgumentException>(() => call());
        foreach (string part in expected) e.Message.ShouldContain(part);
    }
}
