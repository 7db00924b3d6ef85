using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// ELU, SELU, GELU (and its backward operator) and PReLU against <see cref="ActivationReference"/> on shapes with
/// empty, single, odd and vector-crossing sizes, in float64 (a few units in the last place) and float32.
/// </summary>
[Category("Conformance")]
public class ActivationConformanceTests(Device device) : DeviceFixture(device)
{
    private static readonly int[][] Shapes = [[0], [1], [17], [3, 33], [2, 1, 65], [1031]];

    /// <summary>A few units in the last place, and the numerically integrated erfc's ~1e-15 relative error.
    /// </summary>
    private static readonly Tolerance Float64 = new(1e-13, 1e-15);

    private static double[] Inputs(Random rng, long n, double low = -6, double high = 6)
    {
        var v = TestData.UniformDouble(rng, n, low, high);
        for (long i = 0; i < n; i += 7) v[i] = 0;
        return v;
    }

    private static IEnumerable<TestCaseData> UnaryCases()
    {
        yield return new TestCaseData("elu", (OpAttrs)new EluAttrs(), (Func<double, double>)(x =>
            ActivationReference.Elu(x, 1))).SetArgDisplayNames("elu alpha 1");
        yield return new TestCaseData("elu", (OpAttrs)new EluAttrs(0.25), (Func<double, double>)(x =>
            ActivationReference.Elu(x, 0.25))).SetArgDisplayNames("elu alpha 0.25");
        yield return new TestCaseData("selu", (OpAttrs)NoAttrs.Instance,
            (Func<double, double>)ActivationReference.Selu).SetArgDisplayNames("selu");
        yield return new TestCaseData("gelu", (OpAttrs)NoAttrs.Instance,
            (Func<double, double>)ActivationReference.Gelu).SetArgDisplayNames("gelu");
    }

    [TestCaseSource(nameof(UnaryCases))]
    public void UnaryMatchesReference(string op, OpAttrs attrs, Func<double, double> reference)
    {
        var def = OpRegistry.Get(op);
        var rng = new Random(op.Length);
        foreach (var dims in Shapes)
        {
            var shape = new Shape(dims);
            var x = Inputs(rng, shape.Size);
            using (var a = Nd.Array(x, shape))
            using (var y = def.Invoke(attrs, a)[0])
                TensorAssert.AllClose(y.ToArray<double>(), x.Select(reference).ToArray(), Float64,
                    $"{op} float64 {shape}");
            var xf = x.Select(v => (double)(float)v).ToArray();
            using (var a = Nd.Array(xf, shape).AsType(DType.Float32))
            using (var y = def.Invoke(attrs, a)[0])
                TensorAssert.AllClose(y.ToArray<double>(), xf.Select(reference).ToArray(),
                    Tolerances.Float32Transcendental, $"{op} float32 {shape}");
        }
    }

    [Test]
    public void GeluKeepsRelativeAccuracyFarIntoTheNegativeTail()
    {
        // x Phi(x) for x = -5 ... -30: 1 + erf(x / sqrt 2) would cancel to 0 (or to noise); erfc keeps the digits.
        double[] x = [-5, -8, -12, -20, -30];
        using var a = Nd.Array(x, new Shape(5));
        using var y = Nd.Gelu(a);
        // erfc(u) has relative condition number ~2u^2 (900 at x = -30): one rounding of x / sqrt 2 moves it 1e-13.
        TensorAssert.AllClose(y.ToArray<double>(), x.Select(ActivationReference.Gelu).ToArray(),
            new Tolerance(1e-12, 0), "gelu float64 tail");
        float[] xf = [-5, -8, -10, -12];
        using var af = Nd.Array(xf, new Shape(4));
        using var yf = Nd.Gelu(af);
        TensorAssert.AllClose(yf.ToArray<double>(), xf.Select(v => ActivationReference.Gelu(v)).ToArray(),
            new Tolerance(2e-5, 0), "gelu float32 tail");   // the same conditioning times float's 6e-8
    }

    [Test]
    public void GeluBackwardMatchesReference()
    {
        var rng = new Random(7);
        foreach (var dims in Shapes)
        {
            var shape = new Shape(dims);
            var x = Inputs(rng, shape.Size);
            var dy = TestData.UniformDouble(rng, shape.Size, -1, 1);
            var expected = x.Select((v, i) => dy[i] * ActivationReference.GeluDerivative(v)).ToArray();
            using var a = Nd.Array(x, shape);
            using var g = Nd.Array(dy, shape);
            using var dx = ActivationOps.GeluBackward.Call(NoAttrs.Instance, a, g);
            TensorAssert.AllClose(dx.ToArray<double>(), expected, Float64, $"float64 {shape}");
            using var af = a.AsType(DType.Float32);
            using var gf = g.AsType(DType.Float32);
            using var dxf = ActivationOps.GeluBackward.Call(NoAttrs.Instance, af, gf);
            TensorAssert.AllClose(dxf.ToArray<double>(), expected, Tolerances.Float32Transcendental,
                $"float32 {shape}");
        }
    }

    [Test]
    public void PReluMatchesReferencePerChannelAndShared()
    {
        var rng = new Random(9);
        foreach (var (dims, channels) in new (int[], int)[] { ([2, 3, 4, 5], 3), ([5, 7], 7), ([0, 3], 3),
                     ([4, 9], 1), ([6], 1) })
        {
            var shape = new Shape(dims);
            var x = Inputs(rng, shape.Size);
            var slope = TestData.UniformDouble(rng, channels, -0.5, 0.5);
            long inner = dims.Length > 2 ? shape.Size / ((long)dims[0] * dims[1]) : 1;
            var expected = x.Select((v, i) =>
                ActivationReference.PRelu(v, slope[channels == 1 ? 0 : (int)(i / inner % channels)])).ToArray();
            using var a = Nd.Array(x, shape);
            using var s = Nd.Array(slope, new Shape(channels));
            using var y = Nd.PRelu(a, s);
            TensorAssert.AllClose(y.ToArray<double>(), expected, Tolerances.Exact, $"prelu {shape} {channels}");
        }
    }

    [Test]
    public void BadArgumentsNameTheOperator()
    {
        using var x = Nd.Zeros(new Shape(2, 3));
        using var i = Nd.Zeros(new Shape(2, 3), DType.Int32);
        Should.Throw<ArgumentException>(() => Nd.PRelu(x, Nd.Ones(new Shape(2)))).Message
            .ShouldContain("prelu: alpha has shape (2,) but input (2, 3) needs shape (1,) or one value per channel");
        Should.Throw<ArgumentException>(() => Nd.Gelu(i)).Message.ShouldContain("gelu: expects float32 or float64");
        Should.Throw<ArgumentException>(() => Nd.Elu(x, double.NaN)).Message.ShouldContain("elu: alpha must be finite");
    }
}
