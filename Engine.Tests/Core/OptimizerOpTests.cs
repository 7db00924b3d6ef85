namespace Engine.Tests.Core;

/// <summary>Nd.SgdUpdate, SgdMomUpdate and AdamUpdate against the formulas in double, fused and composed.</summary>
public class OptimizerOpTests
{
    private const int Size = 37; // two full 16-lane vectors and a tail

    private static double[] Values(int seed, double scale)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, Size).Select(_ => (r.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static NDArray Make(double[] values, DType dtype) =>
        Nd.Array(values.Select(v => (float)v).ToArray(), new Shape(values.Length)).AsType(dtype);

    private static double ClipTo(double g, double clip) => clip > 0 ? Math.Clamp(g, -clip, clip) : g;

    private static void ShouldMatch(NDArray actual, double[] expected, DType dtype)
    {
        var got = actual.AsType(DType.Float64).ToArray<double>();
        double tol = dtype == DType.Float32 ? 2e-6 : 1e-12;
        for (int i = 0; i < expected.Length; i++)
            got[i].ShouldBe(expected[i], tol * Math.Max(1, Math.Abs(expected[i])), $"element {i}");
    }

    [TestCase(DType.Float32, -1.0)]
    [TestCase(DType.Float32, 0.3)]
    [TestCase(DType.Float64, -1.0)]
    [TestCase(DType.Float64, 0.3)]
    public void SgdUpdateFollowsTheFormula(DType dtype, double clip)
    {
        double[] w = Values(1, 1), g = Values(2, 2);
        // Inputs as the array holds them, so float32 rounding of the inputs does not count as error.
        using var weight = Make(w, dtype);
        using var grad = Make(g, dtype);
        w = weight.AsType(DType.Float64).ToArray<double>();
        g = grad.AsType(DType.Float64).ToArray<double>();
        double lr = 0.1, wd = 0.01, rescale = 0.5;
        Nd.SgdUpdate(weight, grad, lr, wd, rescale, clip);
        ShouldMatch(weight, w.Select((x, i) => (1 - lr * wd) * x - lr * ClipTo(rescale * g[i], clip)).ToArray(),
            dtype);
    }

    [TestCase(DType.Float32, -1.0)]
    [TestCase(DType.Float32, 0.3)]
    [TestCase(DType.Float64, 0.3)]
    public void SgdMomUpdateFollowsTheFormulaOverTwoSteps(DType dtype, double clip)
    {
        using var weight = Make(Values(1, 1), dtype);
        using var grad = Make(Values(2, 2), dtype);
        using var mom = Make(Values(3, 0.1), dtype);
        double[] w = weight.AsType(DType.Float64).ToArray<double>(), g = grad.AsType(DType.Float64).ToArray<double>(),
            m = mom.AsType(DType.Float64).ToArray<double>();
        double lr = 0.05, momentum = 0.9, wd = 1e-3, rescale = 2;
        for (int step = 0; step < 2; step++)
        {
            Nd.SgdMomUpdate(weight, grad, mom, lr, momentum, wd, rescale, clip);
            for (int i = 0; i < Size; i++)
            {
                m[i] = momentum * m[i] - lr * wd * w[i] - lr * ClipTo(rescale * g[i], clip);
                w[i] += m[i];
            }
        }
        ShouldMatch(mom, m, dtype);
        ShouldMatch(weight, w, dtype);
    }

    [TestCase(DType.Float32, -1.0)]
    [TestCase(DType.Float32, 0.5)]
    [TestCase(DType.Float64, -1.0)]
    public void AdamUpdateFollowsTheFormula(DType dtype, double clip)
    {
        using var weight = Make(Values(1, 1), dtype);
        using var grad = Make(Values(2, 2), dtype);
        using var mean = Make(Values(3, 0.1), dtype);
        using var var = Make(Values(4, 0.1).Select(Math.Abs).ToArray(), dtype);
        double[] w = weight.AsType(DType.Float64).ToArray<double>(), g = grad.AsType(DType.Float64).ToArray<double>(),
            m = mean.AsType(DType.Float64).ToArray<double>(), v = var.AsType(DType.Float64).ToArray<double>();
        double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-6, wd = 0.1, rescale = 0.5;
        Nd.AdamUpdate(weight, grad, mean, var, lr, b1, b2, eps, wd, rescale, clip);
        for (int i = 0; i < Size; i++)
        {
            double gi = ClipTo(rescale * g[i] + wd * w[i], clip);
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            w[i] -= lr * m[i] / (Math.Sqrt(v[i]) + eps);
        }
        ShouldMatch(mean, m, dtype);
        ShouldMatch(var, v, dtype);
        ShouldMatch(weight, w, dtype);
    }

    [Test]
    public void ANonContiguousWeightTakesTheComposedPathAndWritesThrough()
    {
        using var full = Nd.Arange(0, 2 * Size).Reshape(Size, 2);
        using var column = full.SliceAxis(1, 0, 1); // (Size, 1), every other element of full: a strided view
        column.IsContiguous.ShouldBeFalse();
        using var grad = Nd.OnesLike(column);
        Nd.SgdUpdate(column, grad, lr: 0.5);
        var values = full.ToArray();
        for (int i = 0; i < Size; i++)
        {
            values[2 * i].ShouldBe(2 * i - 0.5f);
            values[2 * i + 1].ShouldBe(2 * i + 1f);
        }
    }

    [Test]
    public void BadArgumentsAreExplained()
    {
        using var w = Nd.Zeros(4);
        using var g3 = Nd.Zeros(3);
        using var g64 = Nd.Zeros(4).AsType(DType.Float64);
        using var g = Nd.Zeros(4);
        Should.Throw<ArgumentException>(() => Nd.SgdUpdate(w, g3, 0.1)).Message
            .ShouldContain("sgd_update: grad has shape (3,) but the weight has shape (4,)");
        Should.Throw<ArgumentException>(() => Nd.SgdUpdate(w, g64, 0.1)).Message.ShouldContain("AsType");
        Should.Throw<ArgumentException>(() => Nd.SgdMomUpdate(w, g, g3, 0.1)).Message
            .ShouldContain("sgd_mom_update: mom has shape (3,)");
        Should.Throw<ArgumentOutOfRangeException>(() => Nd.SgdUpdate(w, g, double.NaN)).Message.ShouldContain("finite");
        Should.Throw<ArgumentOutOfRangeException>(() => Nd.AdamUpdate(w, g, Nd.Zeros(4), Nd.Zeros(4), 0.1, beta1: 1))
            .Message.ShouldContain("beta1");
        using var ints = Nd.Zeros(4).AsType(DType.Int32);
        Should.Throw<ArgumentException>(() => Nd.SgdUpdate(ints, ints.Copy(), 0.1)).Message
            .ShouldContain("floating-point");
    }

    [Test]
    public void UpdatingARecordedWeightInsideRecordIsRefused()
    {
        using var w = Nd.Ones(4);
        w.AttachGrad();
        using var g = Nd.Ones(4);
        using (Engine.Autograd.Record())
        {
            using var y = w * 2;
            Should.Throw<InvalidOperationException>(() => Nd.SgdUpdate(w, g, 0.1)).Message
                .ShouldContain("sgd_update");
        }
        Nd.SgdUpdate(w, g, 0.1);
        w.ToArray().ShouldAllBe(x => Math.Abs(x - 0.9f) < 1e-7);
    }
}
