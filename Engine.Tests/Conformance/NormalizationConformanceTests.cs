using System.Numerics;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class NormalizationConformanceTests(Device device) : DeviceFixture(device)
{
    /// <summary>Central differences in double with h = 1e-6: truncation error ~h^2 and rounding ~1e-16 / h, both
    /// far below this bound for the O(1) values used.</summary>
    private static readonly Tolerance FiniteDifference = Tolerances.FiniteDifference;

    /// <summary>Float32 kernels against the double reference: one float rounding of the inputs to each formula
    /// (mean, scale, the three backward coefficients) on O(1) values, plus float sums for the gradients.</summary>
    private static Tolerance Float32(long terms) => Tolerances.Float32Sum(Math.Max(terms, 1));

    private static readonly (long Outer, int Channels, long Inner)[] FixedShapes =
    [
        (1, 1, 1), (2, 1, 1), (4, 3, 1), (1, 5, 7), (3, 1, 17), (2, 3, 5), (5, 4, 33), (7, 16, 1), (2, 17, 3),
        (1, 2, 100), (9, 3, 16), (3, 40, 1), (64, 5, 1), (2, 2, 2), (3, 7, 19),
    ];

    private static IEnumerable<(long Outer, int Channels, long Inner)> Shapes(Random rng)
    {
        foreach (var s in FixedShapes) yield return s;
        for (int k = 0; k < 10; k++)
        {
            var d = TestData.RandomDims(rng, 3, max: 19);
            yield return (d[0], d[1], d[2]);
        }
    }

    private static T[] Data<T>(Random rng, long count, double low, double high)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        TestData.UniformDouble(rng, count, low, high).Select(T.CreateTruncating).ToArray();

    private static double[] D<T>(T[] a) where T : unmanaged, IFloatingPointIeee754<T> =>
        a.Select(double.CreateTruncating).ToArray();

    private sealed record Inputs<T>(T[] X, T[] Gamma, T[] Beta, T[] RunningMean, T[] RunningVar);

    private static Inputs<T> MakeInputs<T>(Random rng, BatchNormDescriptor d, double shift = 0)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(Data<T>(rng, d.Count, shift - 2, shift + 3), Data<T>(rng, d.Channels, 0.5, 1.5),
            Data<T>(rng, d.Channels, -0.5, 0.5), Data<T>(rng, d.Channels, -0.3, 0.3),
            Data<T>(rng, d.Channels, 0.5, 1.5));

    // The kernels on the fixture's device: the CPU kernels, or on a GPU its kernels on copies of the arrays.

    private void ForwardTraining<T>(BatchNormDescriptor d, T[] x, T[] gamma, T[] beta, T[] y, T[] mean, T[] invStd,
        T[] runningMean, T[] runningVar) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Device.Kind == DeviceKind.Cpu)
        {
            CpuBatchNorm.ForwardTraining<T>(d, x, gamma, beta, y, mean, invStd, runningMean, runningVar);
            return;
        }
        using var a = new DeviceArgs(Device);
        GpuBatchNorm.ForwardTraining((GpuRuntime)a.Runtime, d, a.Arg(x), a.Arg(gamma), a.Arg(beta), a.Arg(y),
            a.Arg(mean), a.Arg(invStd), a.Arg(runningMean), a.Arg(runningVar));
        a.ReadBack();
    }

    private void ForwardInference<T>(BatchNormDescriptor d, T[] x, T[] gamma, T[] beta, T[] runningMean,
        T[] runningVar, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Device.Kind == DeviceKind.Cpu)
        {
            CpuBatchNorm.ForwardInference<T>(d, x, gamma, beta, runningMean, runningVar, y);
            return;
        }
        using var a = new DeviceArgs(Device);
        GpuBatchNorm.ForwardInference((GpuRuntime)a.Runtime, d, a.Arg(x), a.Arg(gamma), a.Arg(beta),
            a.Arg(runningMean), a.Arg(runningVar), a.Arg(y));
        a.ReadBack();
    }

    private void Backward<T>(BatchNormDescriptor d, T[] x, T[] dy, T[] gamma, T[] mean, T[] invStd, T[] dx,
        T[] dgamma, T[] dbeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Device.Kind == DeviceKind.Cpu)
        {
            CpuBatchNorm.Backward<T>(d, x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
            return;
        }
        using var a = new DeviceArgs(Device);
        GpuBatchNorm.Backward((GpuRuntime)a.Runtime, d, a.Arg(x), a.Arg(dy), a.Arg(gamma), a.Arg(mean),
            a.Arg(invStd), a.Arg(dx), a.Arg(dgamma), a.Arg(dbeta));
        a.ReadBack();
    }

    // ---------------------------------------------------------------- forward (training)

    [Test]
    public void TrainingForwardMatchesReferenceFloat() => CheckTraining<float>(Float32, seed: 1);

    [Test]
    public void TrainingForwardMatchesReferenceDouble() => CheckTraining<double>(_ => Tolerances.Float64, seed: 2);

    private void CheckTraining<T>(Func<long, Tolerance> tolerance, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        foreach (var (outer, channels, inner) in Shapes(rng))
        {
            long m = outer * inner;
            var d = new BatchNormDescriptor(outer, channels, inner)
            {
                Epsilon = rng.Next(2) == 0 ? 1e-5 : 1e-3,
                Momentum = rng.Next(2) == 0 ? 0.9 : 0.7,
                UnbiasedRunningVar = m > 1 && rng.Next(2) == 0,
                FixGamma = rng.Next(3) == 0,
            };
            var p = MakeInputs<T>(rng, d, shift: rng.Next(3) == 0 ? 10 : 0);
            var y = new T[d.Count];
            var savedMean = new T[channels];
            var savedInvStd = new T[channels];
            var rm = (T[])p.RunningMean.Clone();
            var rv = (T[])p.RunningVar.Clone();
            ForwardTraining<T>(d, p.X, p.Gamma, p.Beta, y, savedMean, savedInvStd, rm, rv);

            var r = NormalizationReference.Training(D(p.X), outer, channels, inner, D(p.Gamma), D(p.Beta),
                D(p.RunningMean), D(p.RunningVar), d.Epsilon, d.Momentum, d.UnbiasedRunningVar, d.FixGamma);
            var tol = tolerance(m);
            string what = $"{typeof(T).Name} {d}";
            TensorAssert.AllClose(D(y), r.Y, tol, what + " y");
            TensorAssert.AllClose(D(savedMean), r.Mean, tol, what + " saved mean");
            TensorAssert.AllClose(D(savedInvStd), r.InvStd, tol, what + " saved inverse std");
            TensorAssert.AllClose(D(rm), r.RunningMean, tol, what + " running mean");
            TensorAssert.AllClose(D(rv), r.RunningVar, tol, what + " running var");
        }
    }

    [Test]
    public void RunningStatisticsFollowMxnetByDefaultAndPyTorchWhenUnbiased()
    {
        // One channel, values 1..4: mean 2.5, biased var 1.25, unbiased var 5/3.
        float[] x = [1, 2, 3, 4];
        var y = new float[4];
        float[] saved = [0], invStd = [0];
        float[] rm = [0], rv = [1];
        ForwardTraining<float>(new BatchNormDescriptor(4, 1, 1), x, [1f], [0f], y, saved, invStd, rm,
            rv);
        rm[0].ShouldBe(0.25f, 1e-6f);
        rv[0].ShouldBe(0.9f + 0.1f * 1.25f, 1e-6f);
        saved[0].ShouldBe(2.5f);
        invStd[0].ShouldBe((float)(1 / Math.Sqrt(1.25 + 1e-5)), 1e-6f);

        rm = [0];
        rv = [1];
        var pytorch = new BatchNormDescriptor(4, 1, 1) { UnbiasedRunningVar = true, Momentum = 0.9 };
        ForwardTraining<float>(pytorch, x, [1f], [0f], y, saved, invStd, rm, rv);
        rv[0].ShouldBe(0.9f + 0.1f * 5f / 3f, 1e-6f);
        invStd[0].ShouldBe((float)(1 / Math.Sqrt(1.25 + 1e-5)), 1e-6f, "normalisation uses the biased variance");
    }

    [Test]
    public void FloatStatisticsStayAccurateForLargeMeans()
    {
        // Values 1e4 + U(-1, 1): a one-pass float E[x^2] - E[x]^2 would lose every digit of the variance.
        var rng = new Random(5);
        var d = new BatchNormDescriptor(16, 3, 257);
        var x = Data<float>(rng, d.Count, 1e4 - 1, 1e4 + 1);
        var r = NormalizationReference.Statistics(D(x), 16, 3, 257);
        var y = new float[d.Count];
        var mean = new float[3];
        var invStd = new float[3];
        ForwardTraining<float>(d, x, [1f, 1, 1], [0f, 0, 0], y, mean, invStd, new float[3],
            new float[3]);
        TensorAssert.AllClose(D(mean), r.Mean, Tolerances.Float32Statistics, "mean");
        TensorAssert.AllClose(D(invStd), r.Var.Select(v => 1 / Math.Sqrt(v + 1e-5)).ToArray(),
            Tolerances.Float32Statistics, "inverse std");
    }

    [Test]
    public void TrainingForwardWorksInPlace()
    {
        var rng = new Random(6);
        var d = new BatchNormDescriptor(3, 4, 21);
        var p = MakeInputs<float>(rng, d);
        var expected = new float[d.Count];
        ForwardTraining<float>(d, p.X, p.Gamma, p.Beta, expected, new float[4], new float[4],
            new float[4], new float[4]);
        var inPlace = (float[])p.X.Clone();
        ForwardTraining<float>(d, inPlace, p.Gamma, p.Beta, inPlace, new float[4], new float[4],
            new float[4], new float[4]);
        TensorAssert.Equal<float>(inPlace, expected, "in-place y");
    }

    // ---------------------------------------------------------------- forward (inference)

    [Test]
    public void InferenceMatchesReferenceFloat() => CheckInference<float>(Tolerances.Float32Elementwise, seed: 3);

    [Test]
    public void InferenceMatchesReferenceDouble() => CheckInference<double>(Tolerances.Float64, seed: 4);

    private void CheckInference<T>(Tolerance tol, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        foreach (var (outer, channels, inner) in Shapes(rng))
        {
            var d = new BatchNormDescriptor(outer, channels, inner) { FixGamma = rng.Next(3) == 0 };
            var p = MakeInputs<T>(rng, d);
            var y = new T[d.Count];
            ForwardInference<T>(d, p.X, p.Gamma, p.Beta, p.RunningMean, p.RunningVar, y);
            var expected = NormalizationReference.Inference(D(p.X), outer, channels, inner, D(p.Gamma),
                D(p.Beta), D(p.RunningMean), D(p.RunningVar), d.Epsilon, d.FixGamma);
            TensorAssert.AllClose(D(y), expected, tol, $"{typeof(T).Name} {d} y");
        }
    }

    // ---------------------------------------------------------------- backward

    [Test]
    public void BackwardMatchesReferenceFloat() => CheckBackward<float>(Float32, seed: 7);

    [Test]
    public void BackwardMatchesReferenceDouble() => CheckBackward<double>(_ => Tolerances.Float64, seed: 8);

    private void CheckBackward<T>(Func<long, Tolerance> tolerance, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        foreach (var (outer, channels, inner) in Shapes(rng))
        {
            var d = new BatchNormDescriptor(outer, channels, inner) { FixGamma = rng.Next(3) == 0 };
            var p = MakeInputs<T>(rng, d);
            var dy = Data<T>(rng, d.Count, -1, 1);
            var (dx, dgamma, dbeta, mean, invStd) = RunBackward(d, p, dy);
            var r = NormalizationReference.Backward(D(p.X), D(dy), outer, channels, inner, D(p.Gamma), D(mean),
                D(invStd), d.FixGamma);
            var fromInput = NormalizationReference.Backward(D(p.X), D(dy), outer, channels, inner, D(p.Gamma),
                d.Epsilon, d.FixGamma);
            var tol = tolerance(outer * inner);
            string what = $"{typeof(T).Name} {d}";
            TensorAssert.AllClose(D(dx), r.Dx, tol, what + " dx");
            TensorAssert.AllClose(D(dgamma), r.Dgamma, tol, what + " dgamma");
            TensorAssert.AllClose(D(dbeta), r.Dbeta, tol, what + " dbeta");
            TensorAssert.AllClose(D(dgamma), fromInput.Dgamma, tol, what + " dgamma from x");
        }
    }

    /// <summary>Training forward to get the saved statistics, then backward.</summary>
    private (T[] Dx, T[] Dgamma, T[] Dbeta, T[] Mean, T[] InvStd) RunBackward<T>(BatchNormDescriptor d,
        Inputs<T> p, T[] dy)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = d.Channels;
        var savedMean = new T[c];
        var savedInvStd = new T[c];
        ForwardTraining<T>(d, p.X, p.Gamma, p.Beta, new T[d.Count], savedMean, savedInvStd, new T[c],
            new T[c]);
        var dx = new T[d.Count];
        var dgamma = Enumerable.Repeat(T.CreateTruncating(99), c).ToArray();
        var dbeta = Enumerable.Repeat(T.CreateTruncating(99), c).ToArray();
        Backward<T>(d, p.X, dy, p.Gamma, savedMean, savedInvStd, dx, dgamma, dbeta);
        return (dx, dgamma, dbeta, savedMean, savedInvStd);
    }

    [TestCase(3, 2, 2, false)]
    [TestCase(4, 3, 1, false)]
    [TestCase(2, 1, 5, true)]
    [TestCase(1, 2, 6, false)]
    public void BackwardMatchesFiniteDifferences(int outer, int channels, int inner, bool fixGamma)
    {
        var rng = new Random(9);
        var d = new BatchNormDescriptor(outer, channels, inner) { FixGamma = fixGamma };
        var p = MakeInputs<double>(rng, d);
        var w = Data<double>(rng, d.Count, -1, 1);
        var (dx, dgamma, dbeta, _, _) = RunBackward(d, p, w);

        // L = sum(w * y), so dL/dy = w.
        double Loss()
        {
            var y = new double[d.Count];
            ForwardTraining<double>(d, p.X, p.Gamma, p.Beta, y, new double[channels],
                new double[channels], new double[channels], new double[channels]);
            return y.Zip(w, (a, b) => a * b).Sum();
        }

        TensorAssert.AllClose(dx, Numeric(p.X, Loss), FiniteDifference, "dx");
        TensorAssert.AllClose(dgamma, fixGamma ? new double[channels] : Numeric(p.Gamma, Loss), FiniteDifference,
            "dgamma");
        TensorAssert.AllClose(dbeta, Numeric(p.Beta, Loss), FiniteDifference, "dbeta");
    }

    private static double[] Numeric(double[] v, Func<double> loss)
    {
        const double h = 1e-6;
        var g = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            double keep = v[i];
            v[i] = keep + h;
            double plus = loss();
            v[i] = keep - h;
            double minus = loss();
            v[i] = keep;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }

    // ---------------------------------------------------------------- empty arrays, threading

    [Test]
    public void EmptyBatchKeepsRunningStatisticsAndZeroesGradients()
    {
        var d = new BatchNormDescriptor(0, 3, 5);
        float[] rm = [1, 2, 3], rv = [4, 5, 6];
        var mean = new float[3];
        var invStd = new float[3];
        ForwardTraining<float>(d, [], [1f, 1, 1], [0f, 0, 0], [], mean, invStd, rm, rv);
        rm.ShouldBe([1f, 2, 3]);
        rv.ShouldBe([4f, 5, 6]);
        mean.ShouldBe([0f, 0, 0]);
        invStd.ShouldAllBe(v => Math.Abs(v - 1 / Math.Sqrt(1e-5)) < 1e-2);

        float[] dgamma = [9, 9, 9], dbeta = [9, 9, 9];
        Backward<float>(d, [], [], [1f, 1, 1], mean, invStd, [], dgamma, dbeta);
        dgamma.ShouldBe([0f, 0, 0]);
        dbeta.ShouldBe([0f, 0, 0]);

        ForwardInference<float>(d, [], [1f, 1, 1], [0f, 0, 0], rm, rv, []);
        var noChannels = new BatchNormDescriptor(4, 0, 3);
        ForwardTraining<double>(noChannels, [], [], [], [], [], [], [], []);
        Backward<double>(noChannels, [], [], [], [], [], [], [], []);
        var noInner = new BatchNormDescriptor(2, 2, 0);
        ForwardTraining<double>(noInner, [], [1.0, 1], [0.0, 0], [], new double[2], new double[2],
            new double[2], new double[2]);
    }

    [TestCase(8, 4, 9000)]
    [TestCase(4096, 64, 1)]
    public void ResultsDoNotDependOnThreadCount(int outer, int channels, int inner)
    {
        RequireCpu("the thread count");
        var rng = new Random(10);
        var d = new BatchNormDescriptor(outer, channels, inner);
        var p = MakeInputs<float>(rng, d);
        var dy = Data<float>(rng, d.Count, -1, 1);
        int keep = CpuParallel.MaxThreads;
        try
        {
            CpuParallel.MaxThreads = 1;
            var (dx1, dg1, db1, _, _) = RunBackward(d, p, dy);
            CpuParallel.MaxThreads = 4;
            var (dx4, dg4, db4, _, _) = RunBackward(d, p, dy);
            TensorAssert.Equal<float>(dx4, dx1, "dx");
            TensorAssert.Equal<float>(dg4, dg1, "dgamma");
            TensorAssert.Equal<float>(db4, db1, "dbeta");
        }
        finally
        {
            CpuParallel.MaxThreads = keep;
        }
        var r = NormalizationReference.Backward(D(p.X), D(dy), outer, channels, inner, D(p.Gamma), d.Epsilon, false);
        TensorAssert.AllClose(D(RunBackward(d, p, dy).Dx), r.Dx, Float32((long)outer * inner), "dx");
    }

    // ---------------------------------------------------------------- bad input

    [Test]
    public void BadInputsNameTheOperatorAndTheMismatch()
    {
        var d = new BatchNormDescriptor(2, 4, 3);
        var x = new float[24];
        var c4 = new float[4];
        var c3 = new float[3];

        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.ForwardTraining<float>(d, x, c3, c4, x, c4, c4, c4, c4))
            .Message.ShouldStartWith("batch_norm: gamma has 3 elements but x has 4 channels");
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.ForwardTraining<float>(d, new float[23], c4, c4, x, c4, c4, c4, c4))
            .Message.ShouldStartWith("batch_norm: x has 23 elements");
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.ForwardTraining<float>(d, x, c4, c4, new float[25], c4, c4, c4, c4))
            .Message.ShouldStartWith("batch_norm: y has 25 elements");
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.ForwardTraining<float>(d, x, c4, c4, x, c4, c4, c4, c3))
            .Message.ShouldStartWith("batch_norm: runningVar has 3 elements");
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.ForwardInference<float>(d, x, c4, c4, c3, c4, x))
            .Message.ShouldStartWith("batch_norm: runningMean has 3 elements");
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.Backward<float>(d, x, x, c4, c4, c4, x, c3, c4))
            .Message.ShouldStartWith("batch_norm_backward: dgamma has 3 elements");
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.Backward<float>(d, x, new float[2], c4, c4, c4, x, c4, c4))
            .Message.ShouldStartWith("batch_norm_backward: dy has 2 elements");

        var single = new BatchNormDescriptor(1, 2, 1) { UnbiasedRunningVar = true };
        float[] c2 = [1, 1];
        Should.Throw<ArgumentException>(() =>
                CpuBatchNorm.ForwardTraining<float>(single, c2, c2, c2, new float[2], c2, c2, c2, c2))
            .Message.ShouldContain("more than one value per channel");

        Should.Throw<ArgumentOutOfRangeException>(() => new BatchNormDescriptor(-1, 2, 3))
            .Message.ShouldStartWith("batch_norm: sizes must be non-negative");
        Should.Throw<ArgumentOutOfRangeException>(() => new BatchNormDescriptor(1, 2, 3) { Epsilon = -1 })
            .Message.ShouldStartWith("batch_norm: epsilon");
        Should.Throw<ArgumentOutOfRangeException>(() => new BatchNormDescriptor(1, 2, 3) { Momentum = 1.5 })
            .Message.ShouldStartWith("batch_norm: momentum");
        Should.Throw<ArgumentOutOfRangeException>(() => BatchNormDescriptor.ForAxis(new Shape(2, 3), 2))
            .Message.ShouldStartWith("batch_norm: axis 2 is out of range");
    }

    [Test]
    public void ForAxisViewsTheShapeAroundTheChannelAxis()
    {
        var d = BatchNormDescriptor.ForAxis(new Shape(2, 3, 4, 5));
        (d.Outer, d.Channels, d.Inner).ShouldBe((2L, 3, 20L));
        d = BatchNormDescriptor.ForAxis(new Shape(2, 3, 4, 5), -1);
        (d.Outer, d.Channels, d.Inner).ShouldBe((24L, 5, 1L));
        d = BatchNormDescriptor.ForAxis(new Shape(6), 0);
        (d.Outer, d.Channels, d.Inner).ShouldBe((1L, 6, 1L));
    }

    // ---------------------------------------------------------------- PyTorch goldens

    private static IEnumerable<string> GoldenCases() =>
        Golden.CaseNames("norm").Where(n => n.StartsWith("batchnorm_", StringComparison.Ordinal));

    [Test]
    public void GoldenCasesExist() => GoldenCases().ShouldNotBeEmpty("run tools/golden/gen_norm.py");

    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorch(string name)
    {
        var g = Golden.Load("norm", name);
        var shape = g["x"].Shape;
        var view = BatchNormDescriptor.ForAxis(shape, g.Attrs.GetProperty("axis").GetInt32());
        var d = new BatchNormDescriptor(view.Outer, view.Channels, view.Inner)
        {
            Epsilon = g.Attrs.GetProperty("eps").GetDouble(),
            Momentum = g.Attrs.GetProperty("momentum").GetDouble(),
            UnbiasedRunningVar = g.Attrs.GetProperty("unbiased_running_var").GetBoolean(),
        };
        var x = g["x"].ToFloat32();
        var gamma = g["gamma"].ToFloat32();
        var beta = g["beta"].ToFloat32();
        var rm = g["running_mean"].ToFloat32();
        var rv = g["running_var"].ToFloat32();
        var y = new float[x.Length];
        var tol = Tolerances.Golden;
        if (!g.Attrs.GetProperty("training").GetBoolean())
        {
            ForwardInference<float>(d, x, gamma, beta, rm, rv, y);
            TensorAssert.AllClose(y, g["y"].ToFloat32(), tol, name + " y");
            return;
        }
        var mean = new float[d.Channels];
        var invStd = new float[d.Channels];
        ForwardTraining<float>(d, x, gamma, beta, y, mean, invStd, rm, rv);
        TensorAssert.AllClose(y, g["y"].ToFloat32(), tol, name + " y");
        TensorAssert.AllClose(rm, g["running_mean_out"].ToFloat32(), tol, name + " running mean");
        TensorAssert.AllClose(rv, g["running_var_out"].ToFloat32(), tol, name + " running var");
        var dx = new float[x.Length];
        var dgamma = new float[d.Channels];
        var dbeta = new float[d.Channels];
        Backward<float>(d, x, g["dy"].ToFloat32(), gamma, mean, invStd, dx, dgamma, dbeta);
        TensorAssert.AllClose(dx, g["dx"].ToFloat32(), tol, name + " dx");
        TensorAssert.AllClose(dgamma, g["dgamma"].ToFloat32(), tol, name + " dgamma");
        TensorAssert.AllClose(dbeta, g["dbeta"].ToFloat32(), tol, name + " dbeta");
    }
}
