using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// Layer, instance and group norm (forward and backward kernels, through their operators) against
/// <see cref="SampleNormReference"/> on shapes with sizes 1, odd sizes, empty batches, large means and
/// non-contiguous input, in float64 and float32. (PyTorch goldens: Gluon/LayerGoldenTests.)
/// </summary>
[Category("Conformance")]
public class SampleNormConformanceTests(Device device) : DeviceFixture(device)
{
    private sealed record Case(SampleNormAttrs Attrs, int[] Shape, int AffineCount, SampleNormReference.Layout Layout)
    {
        public override string ToString() => $"{Attrs.GetType().Name[..^5]} {new Shape(Shape)}";
    }

    private static IEnumerable<Case> Cases()
    {
        foreach (var (dims, axis) in new (int[], int)[] { ([3, 5], -1), ([1, 1], -1), ([2, 4, 3], 1),
                     ([2, 3, 7], 0), ([4, 1, 33], -1), ([0, 6], -1), ([2, 3, 2, 5], 2) })
        {
            var s = new Shape(dims);
            int a = s.NormalizeAxis(axis, "test");
            yield return new Case(new LayerNormAttrs(axis, axis == 1 ? 1e-3 : 1e-5), dims, dims[a],
                SampleNormReference.LayerNorm(s, axis));
        }
        foreach (var dims in new[] { new[] { 2, 3, 4 }, [1, 1, 1], [3, 2, 5, 3], [2, 5, 17], [0, 3, 4] })
            yield return new Case(new InstanceNormAttrs(), dims, dims[1],
                SampleNormReference.GroupNorm(new Shape(dims), dims[1]));
        foreach (var (dims, g) in new (int[], int)[] { ([2, 6, 3], 2), ([2, 6, 3], 3), ([1, 4], 4),
                     ([3, 4, 2, 3], 1), ([2, 8, 5], 8) })
            yield return new Case(new GroupNormAttrs(g), dims, g, SampleNormReference.GroupNorm(new Shape(dims), g));
    }

    private static (OpDef Forward, OpDef Backward) Ops(SampleNormAttrs a) => a switch
    {
        LayerNormAttrs => (SampleNormOps.LayerNorm, SampleNormOps.LayerNormBackward),
        InstanceNormAttrs => (SampleNormOps.InstanceNorm, SampleNormOps.InstanceNormBackward),
        _ => (SampleNormOps.GroupNorm, SampleNormOps.GroupNormBackward),
    };

    private static double Eps(SampleNormAttrs a) => a switch
    {
        LayerNormAttrs l => l.Epsilon, InstanceNormAttrs i => i.Epsilon, GroupNormAttrs g => g.Epsilon, _ => 0,
    };

    [TestCase(DType.Float64)]
    [TestCase(DType.Float32)]
    public void MatchesReference(DType dtype)
    {
        var rng = new Random(dtype == DType.Float64 ? 1 : 2);
        foreach (var c in Cases())
        {
            // A mean far from zero in every other case: the statistics must not lose the variance.
            double shift = rng.Next(2) == 0 ? 0 : 1e3;
            Check(c, dtype, rng, shift, transposed: false);
        }
    }

    [Test]
    public void NonContiguousInputMatchesReference()
    {
        var rng = new Random(3);
        foreach (var c in Cases().Where(c => c.Shape.Length == 2 && c.Shape[0] > 1 && c.Shape[1] > 1))
            Check(c, DType.Float64, rng, 0, transposed: true);
    }

    /// <summary>
    /// Float32 layer, instance and group norm over rows long enough for the vector lanes and a tail, with a mean
    /// ten thousand times the values' spread: the statistics, summed in one pass, must not lose the variance to
    /// the mean. The 100-row layer norm spans four of the backward pass's 32-row blocks of gamma and beta sums.
    /// </summary>
    [Test]
    public void Float32RowsKeepTheVarianceNextToALargeMean()
    {
        var rng = new Random(4);
        foreach (var (rows, n) in new[] { (5, 16), (5, 67), (5, 300), (100, 40) })
        {
            var shape = new Shape(rows, n);
            var c = new Case(new LayerNormAttrs(-1, 1e-5), [rows, n], n, SampleNormReference.LayerNorm(shape, -1));
            Check(c, DType.Float32, rng, 1e3, transposed: false, spread: 0.1);
        }
        int[] instance = [4, 3, 37], grouped = [3, 6, 20];
        Check(new Case(new InstanceNormAttrs(), instance, 3, SampleNormReference.GroupNorm(new Shape(instance), 3)),
            DType.Float32, rng, 1e3, transposed: false, spread: 0.1);
        Check(new Case(new GroupNormAttrs(3), grouped, 3, SampleNormReference.GroupNorm(new Shape(grouped), 3)),
            DType.Float32, rng, 1e3, transposed: false, spread: 0.1);
    }

    private static void Check(Case c, DType dtype, Random rng, double shift, bool transposed, double spread = 5)
    {
        using var scope = NDArray.Scope();
        var shape = new Shape(c.Shape);
        var x = TestData.UniformDouble(rng, shape.Size, shift - 0.4 * spread, shift + 0.6 * spread);
        var dy = TestData.UniformDouble(rng, shape.Size, -1, 1);
        var gamma = TestData.UniformDouble(rng, c.AffineCount, 0.5, 1.5);
        var beta = TestData.UniformDouble(rng, c.AffineCount, -0.5, 0.5);
        if (dtype == DType.Float32)
        {
            // The reference sees the float32-rounded inputs.
            x = x.Select(v => (double)(float)v).ToArray();
            gamma = gamma.Select(v => (double)(float)v).ToArray();
            beta = beta.Select(v => (double)(float)v).ToArray();
            dy = dy.Select(v => (double)(float)v).ToArray();
        }
        double eps = Eps(c.Attrs);
        var r = SampleNormReference.Forward(c.Layout, x, gamma, beta, eps);
        var grads = SampleNormReference.Backward(c.Layout, x, dy, gamma, eps);
        NDArray Make(double[] v, Shape s) => Nd.Array(v, s).AsType(dtype);
        var xa = Make(x, shape);
        if (transposed)
        {
            // The same values through a transposed view of a (cols, rows) buffer.
            var t = new double[x.Length];
            for (int i = 0; i < c.Shape[0]; i++)
                for (int j = 0; j < c.Shape[1]; j++) t[j * c.Shape[0] + i] = x[i * c.Shape[1] + j];
            xa = Make(t, new Shape(c.Shape[1], c.Shape[0])).T;
            xa.IsContiguous.ShouldBeFalse();
        }
        var ga = Make(gamma, new Shape(c.AffineCount));
        var ba = Make(beta, new Shape(c.AffineCount));
        var (forward, backward) = Ops(c.Attrs);
        var outs = forward.Invoke(c.Attrs, xa, ga, ba);
        int n = (int)Math.Max(1, shape.Size / Math.Max(1, c.Layout.Sets.Length));
        var tol = dtype == DType.Float64 ? Tolerances.Float64Sum(n) : Tolerances.Float32Sum(n);
        var what = $"{c} {dtype.Name()}" + (transposed ? " transposed" : "");
        TensorAssert.AllClose(outs[0].ToArray<double>(), r.Y, tol, what + " y");
        TensorAssert.AllClose(outs[1].ToArray<double>(), r.Mean, tol, what + " mean");
        TensorAssert.AllClose(outs[2].ToArray<double>(), r.Std, tol, what + " std");
        var g = backward.Invoke(c.Attrs, xa, Make(dy, shape), ga, outs[1], outs[2]);
        // dx and the parameter gradients sum over a set (or all sets): n and the element count bound them.
        var gtol = dtype == DType.Float64 ? Tolerances.Float64Sum(shape.Size) : Tolerances.Float32Sum(shape.Size);
        TensorAssert.AllClose(g[0].ToArray<double>(), grads.Dx, gtol, what + " dx");
        TensorAssert.AllClose(g[1].ToArray<double>(), grads.Dgamma, gtol, what + " dgamma");
        TensorAssert.AllClose(g[2].ToArray<double>(), grads.Dbeta, gtol, what + " dbeta");
    }

    [Test]
    public void ShapeErrorsNameTheOperatorAndTheFix()
    {
        using var x = Nd.Zeros(new Shape(2, 6, 3));
        using var g4 = Nd.Ones(new Shape(4));
        using var g6 = Nd.Ones(new Shape(6));
        Should.Throw<ArgumentException>(() => Nd.GroupNorm(x, g4, g4, numGroups: 4)).Message
            .ShouldContain("group_norm: 6 channels (input (2, 6, 3)) cannot be split into 4 groups");
        Should.Throw<ArgumentException>(() => Nd.LayerNorm(x, g4, g4)).Message
            .ShouldContain("layer_norm: gamma has shape (4,) but input (2, 6, 3) needs shape (3,)");
        Should.Throw<ArgumentException>(() => Nd.InstanceNorm(Nd.Zeros(new Shape(2, 6)), g6, g6)).Message
            .ShouldContain("instance_norm: input (2, 6) needs at least 3 axes");
        Should.Throw<ArgumentException>(() => Nd.LayerNorm(Nd.Zeros(new Shape(2, 3), DType.Int32), g4, g4)).Message
            .ShouldContain("layer_norm");
    }

    /// <summary>The float32 rows (vectorised) give the same bits on one thread and on several: every statistic is
    /// summed by one thread, and layer norm's gamma and beta gradients by fixed blocks of rows (of 32 rows, or more
    /// past 8192 rows, as the second case has) added in order; instance and group norm's by row, then in row
    /// order.</summary>
    [TestCase(256, 300, 0)]
    [TestCase(9001, 21, 0)]
    [TestCase(600, 50, 6)]
    [NonParallelizable]
    public void Float32LayerNormDoesNotDependOnTheThreadCount(int rows, int width, int groups)
    {
        RequireCpu("splitting the rows over threads");
        // groups > 0: one gamma per row o % groups (instance and group norm).
        var d = groups == 0
            ? new Engine.Kernels.SampleNormDescriptor(rows, width, 1, Engine.Kernels.NormAffine.PerPosition)
            : new Engine.Kernels.SampleNormDescriptor(rows, width, 1, Engine.Kernels.NormAffine.PerOuter, groups);
        int affine = (int)d.AffineCount;
        var rng = new Random(5);
        float[] Make(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() * 4 - 1)).ToArray();
        float[] x = Make(d.Count), gamma = Make(affine), beta = Make(affine), dy = Make(d.Count);
        float[][] Run(int threads)
        {
            int saved = Engine.Kernels.Cpu.CpuParallel.MaxThreads;
            Engine.Kernels.Cpu.CpuParallel.MaxThreads = threads;
            try
            {
                var y = new float[d.Count];
                var mean = new float[rows];
                var std = new float[rows];
                var dx = new float[d.Count];
                var dgamma = new float[affine];
                var dbeta = new float[affine];
                Engine.Kernels.Cpu.CpuSampleNorm.Forward<float>(d, x, gamma, beta, y, mean, std);
                Engine.Kernels.Cpu.CpuSampleNorm.Backward<float>(d, x, dy, gamma, mean, std, dx, dgamma, dbeta);
                return [y, mean, std, dx, dgamma, dbeta];
            }
            finally
            {
                Engine.Kernels.Cpu.CpuParallel.MaxThreads = saved;
            }
        }
        var one = Run(1);
        var four = Run(4);
        for (int k = 0; k < one.Length; k++) four[k].ShouldBe(one[k], $"output {k}");
    }
}
