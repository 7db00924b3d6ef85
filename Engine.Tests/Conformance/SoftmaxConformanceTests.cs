using System.Numerics;
using Engine.Kernels.Cpu;
using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class SoftmaxConformanceTests(Device device) : DeviceFixture(device)
{
    /// <summary>Central differences in double with h = 1e-6 (see NormalizationConformanceTests).</summary>
    private static readonly Tolerance FiniteDifference = Tolerances.FiniteDifference;

    /// <summary>Float32 against the double reference: a vector exp (about 1 ulp) per element and a float sum of
    /// the axis for the normaliser or the backward dot product.</summary>
    private static Tolerance Float32(long axisLength) => Tolerances.Float32Sum(Math.Max(axisLength, 1));

    private static readonly (long Outer, int Axis, long Inner)[] FixedShapes =
    [
        (1, 1, 1), (3, 1, 4), (2, 10, 1), (5, 17, 1), (1, 1000, 1), (4, 33, 3), (2, 5, 300), (1, 3, 257),
        (7, 64, 1), (2, 16, 16), (3, 31, 1), (1, 8, 1), (1, 15, 1), (1, 24, 1), (1, 40, 1), (6, 2, 1),
    ];

    private static IEnumerable<(long Outer, int Axis, long Inner)> Shapes(Random rng)
    {
        foreach (var s in FixedShapes) yield return s;
        for (int k = 0; k < 12; k++)
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

    /// <summary>The kernel on the CPU; on another device, the operator there over shape (outer, axis, inner).</summary>
    private void Forward<T>(bool log, long outer, int axis, long inner, T[] x, T[] y, double t = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Device.Kind != DeviceKind.Cpu)
        {
            OnDevice(log ? NormalizationOps.LogSoftmax : NormalizationOps.Softmax, outer, axis, inner, t, y, x);
            return;
        }
        if (log) CpuSoftmax.LogSoftmax<T>(outer, axis, inner, x, y, t);
        else CpuSoftmax.Softmax<T>(outer, axis, inner, x, y, t);
    }

    private void Backward<T>(bool log, long outer, int axis, long inner, T[] y, T[] dy, T[] dx, double t = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Device.Kind != DeviceKind.Cpu)
        {
            OnDevice(log ? NormalizationOps.LogSoftmaxBackward : NormalizationOps.SoftmaxBackward, outer, axis, inner,
                t, dx, y, dy);
            return;
        }
        if (log) CpuSoftmax.LogSoftmaxBackward<T>(outer, axis, inner, y, dy, dx, t);
        else CpuSoftmax.SoftmaxBackward<T>(outer, axis, inner, y, dy, dx, t);
    }

    private void OnDevice<T>(OpDef<SoftmaxAttrs> op, long outer, int axis, long inner, double t, T[] result,
        params T[][] inputs) where T : unmanaged
    {
        using var scope = NDArray.Scope();
        var shape = new Shape(checked((int)outer), axis, checked((int)inner));
        var y = op.Call(new SoftmaxAttrs(1, t), inputs.Select(v => NDArray.FromSpan<T>(v, shape, Device)).ToArray());
        y.Device.ShouldBe(Device);
        y.ToArray<T>().CopyTo(result, 0);
    }

    // ---------------------------------------------------------------- softmax and log-softmax

    [TestCase(false)]
    [TestCase(true)]
    public void MatchesReferenceFloat(bool log) => CheckForwardAndBackward<float>(log, Float32, seed: 1);

    [TestCase(false)]
    [TestCase(true)]
    public void MatchesReferenceDouble(bool log) =>
        CheckForwardAndBackward<double>(log, _ => Tolerances.Float64, seed: 2);

    private void CheckForwardAndBackward<T>(bool log, Func<long, Tolerance> tolerance, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        foreach (var (outer, axis, inner) in Shapes(rng))
        {
            double t = rng.Next(3) switch { 0 => 0.5, 1 => 3, _ => 1 };
            long n = outer * axis * inner;
            var x = Data<T>(rng, n, -4, 4);
            var y = new T[n];
            Forward(log, outer, axis, inner, x, y, t);
            string what = $"{(log ? "log_softmax" : "softmax")} {typeof(T).Name} ({outer}, {axis}, {inner}) t={t}";
            var tol = tolerance(axis);
            TensorAssert.AllClose(D(y), SoftmaxReference.Forward(D(x), outer, axis, inner, t, log), tol, what);

            var dy = Data<T>(rng, n, -1, 1);
            var dx = new T[n];
            Backward(log, outer, axis, inner, y, dy, dx, t);
            TensorAssert.AllClose(D(dx), SoftmaxReference.Backward(D(y), D(dy), outer, axis, inner, t, log), tol,
                what + " dx");
        }
    }

    [TestCase(false, 3, 4, 1)]
    [TestCase(true, 3, 4, 1)]
    [TestCase(false, 2, 3, 2)]
    [TestCase(true, 2, 3, 2)]
    [TestCase(false, 1, 17, 1)]
    [TestCase(true, 1, 5, 3)]
    public void BackwardMatchesFiniteDifferences(bool log, int outer, int axis, int inner)
    {
        var rng = new Random(3);
        long n = (long)outer * axis * inner;
        var x = Data<double>(rng, n, -2, 2);
        var w = Data<double>(rng, n, -1, 1);
        const double t = 1.5;
        var y = new double[n];
        Forward(log, outer, axis, inner, x, y, t);
        var dx = new double[n];
        Backward(log, outer, axis, inner, y, w, dx, t);

        double Loss()
        {
            var z = new double[n];
            Forward(log, outer, axis, inner, x, z, t);
            return z.Zip(w, (a, b) => a * b).Sum();
        }

        TensorAssert.AllClose(dx, Numeric(x, Loss), FiniteDifference, "dx");
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

    [TestCase(1, 37, 1)]
    [TestCase(3, 50, 1)]
    [TestCase(2, 9, 5)]
    public void LargeLogitsStayFinite(int outer, int axis, int inner)
    {
        var rng = new Random(4);
        long n = (long)outer * axis * inner;
        var x = Data<float>(rng, n, -1000, 1000);
        x[0] = float.NegativeInfinity; // a masked logit gets probability 0
        var y = new float[n];
        CpuSoftmax.Softmax<float>(outer, axis, inner, x, y);
        y.ShouldAllBe(v => float.IsFinite(v));
        TensorAssert.AllClose(D(y), SoftmaxReference.Forward(D(x), outer, axis, inner, 1, false), Float32(axis),
            "softmax");
        y[0].ShouldBe(0f);
        CpuSoftmax.LogSoftmax<float>(outer, axis, inner, x, y);
        y.Skip(1).ShouldAllBe(v => float.IsFinite(v));
        TensorAssert.AllClose(D(y), SoftmaxReference.Forward(D(x), outer, axis, inner, 1, true), Float32(axis),
            "log_softmax");

        var same = Enumerable.Repeat(1000f, (int)n).ToArray();
        CpuSoftmax.Softmax<float>(outer, axis, inner, same, y);
        y.ShouldAllBe(v => Math.Abs(v - 1f / axis) < 1e-6);
    }

    [Test]
    public void EmptyArraysDoNothing()
    {
        CpuSoftmax.Softmax<float>(0, 5, 3, [], []);
        CpuSoftmax.LogSoftmax<float>(4, 0, 3, [], []);
        CpuSoftmax.SoftmaxBackward<double>(4, 5, 0, [], [], []);
        CpuSoftmax.LogSoftmaxBackward<double>(0, 0, 0, [], [], []);
        CpuSoftmaxCrossEntropy.Forward<float, int>(0, 10, [], [], []);
        CpuSoftmaxCrossEntropy.Backward<float, long>(0, 10, [], [], [], []);
        // Through the operators: shapes survive, gradients of an empty batch are empty, nothing is read or written.
        using var x = Nd.Zeros(new Shape(0, 5));
        x.AttachGrad();
        using var labels = Nd.Zeros(new Shape(0));
        NDArray loss, p;
        using (Engine.Autograd.Record())
        {
            p = Nd.Softmax(x);
            loss = Nd.SoftmaxCrossEntropy(x, labels);
        }
        p.Shape.ShouldBe(new Shape(0, 5));
        loss.Shape.ShouldBe(new Shape(0));
        Engine.Autograd.Backward([p, loss]);
        x.Grad!.Shape.ShouldBe(new Shape(0, 5));
        x.Grad.ToArray().ShouldBeEmpty();
        using var wide = Nd.Softmax(Nd.Zeros(new Shape(3, 0, 2)), axis: 1);
        wide.Shape.ShouldBe(new Shape(3, 0, 2));
        p.Dispose();
        loss.Dispose();
    }

    [TestCase(false, 1)]
    [TestCase(true, 1)]
    [TestCase(false, 7)]
    [TestCase(true, 7)]
    public void WorksInPlace(bool log, int inner)
    {
        var rng = new Random(5);
        var x = Data<float>(rng, 3 * 21 * inner, -3, 3);
        var expected = new float[x.Length];
        Forward(log, 3, 21, inner, x, expected);
        var inPlace = (float[])x.Clone();
        Forward(log, 3, 21, inner, inPlace, inPlace);
        TensorAssert.Equal<float>(inPlace, expected, "in-place y");

        var dy = Data<float>(rng, x.Length, -1, 1);
        Backward(log, 3, 21, inner, expected, dy, x);
        Backward(log, 3, 21, inner, expected, dy, dy);
        TensorAssert.Equal<float>(dy, x, "in-place dx");
    }

    [TestCase(4096, 100, 1)]
    [TestCase(4, 30, 2000)]
    public void ResultsDoNotDependOnThreadCount(int outer, int axis, int inner)
    {
        var rng = new Random(6);
        long n = (long)outer * axis * inner;
        var x = Data<float>(rng, n, -5, 5);
        var dy = Data<float>(rng, n, -1, 1);
        int keep = CpuParallel.MaxThreads;
        try
        {
            var results = new List<float[]>();
            foreach (int threads in new[] { 1, 4 })
            {
                CpuParallel.MaxThreads = threads;
                var y = new float[n];
                var dx = new float[n];
                CpuSoftmax.LogSoftmax<float>(outer, axis, inner, x, y);
                CpuSoftmax.LogSoftmaxBackward<float>(outer, axis, inner, y, dy, dx);
                results.Add(y);
                results.Add(dx);
            }
            TensorAssert.Equal<float>(results[2], results[0], "y");
            TensorAssert.Equal<float>(results[3], results[1], "dx");
            TensorAssert.AllClose(D(results[0]), SoftmaxReference.Forward(D(x), outer, axis, inner, 1, true),
                Float32(axis), "y");
        }
        finally
        {
            CpuParallel.MaxThreads = keep;
        }
    }

    [Test]
    public void BadInputsNameTheOperatorAndTheMismatch()
    {
        var x = new float[12];
        Should.Throw<ArgumentException>(() => CpuSoftmax.Softmax<float>(2, 3, 3, x, x))
            .Message.ShouldStartWith("softmax: x has 12 elements but (outer 2, axis 3, inner 3) needs 18");
        Should.Throw<ArgumentException>(() => CpuSoftmax.LogSoftmax<float>(2, 3, 2, x, new float[11]))
            .Message.ShouldStartWith("log_softmax: y has 11 elements");
        Should.Throw<ArgumentException>(() => CpuSoftmax.SoftmaxBackward<float>(2, 3, 2, x, new float[3], x))
            .Message.ShouldStartWith("softmax_backward: dy has 3 elements");
        Should.Throw<ArgumentException>(() => CpuSoftmax.LogSoftmaxBackward<float>(2, 3, 2, x, x, new float[1]))
            .Message.ShouldStartWith("log_softmax_backward: dx has 1 elements");
        Should.Throw<ArgumentOutOfRangeException>(() => CpuSoftmax.Softmax<float>(-2, 3, 2, x, x))
            .Message.ShouldStartWith("softmax: sizes must be non-negative");
        Should.Throw<ArgumentOutOfRangeException>(() => CpuSoftmax.Softmax<float>(2, 3, 2, x, x, temperature: 0))
            .Message.ShouldStartWith("softmax: temperature must be a positive finite number");
        Should.Throw<ArgumentException>(() => CpuSoftmax.Softmax<float>(int.MaxValue, int.MaxValue, 4, x, x))
            .Message.ShouldStartWith("softmax: x has 12 elements");
    }

    // ---------------------------------------------------------------- softmax cross-entropy

    private static readonly (int Batch, int Classes)[] CrossEntropyShapes =
        [(1, 1), (3, 10), (17, 33), (5, 1000), (8, 2), (2, 16), (4, 7)];

    [Test]
    public void CrossEntropyMatchesReferenceFloat() => CheckCrossEntropy<float>(Float32, seed: 7);

    [Test]
    public void CrossEntropyMatchesReferenceDouble() => CheckCrossEntropy<double>(_ => Tolerances.Float64, seed: 8);

    private static void CheckCrossEntropy<T>(Func<long, Tolerance> tolerance, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        foreach (var (batch, classes) in CrossEntropyShapes)
        {
            var x = Data<T>(rng, (long)batch * classes, -6, 6);
            var labels = Enumerable.Range(0, batch).Select(_ => (long)rng.Next(classes)).ToArray();
            var dloss = Data<T>(rng, batch, 0.5, 1.5);
            var expectedLoss = SoftmaxReference.CrossEntropy(D(x), labels, batch, classes);
            var expectedDx = SoftmaxReference.CrossEntropyBackward(D(x), labels, D(dloss), batch, classes);
            var tol = tolerance(classes);
            string what = $"{typeof(T).Name} ({batch}, {classes})";

            var loss = new T[batch];
            var dx = new T[x.Length];
            CpuSoftmaxCrossEntropy.Forward<T, long>(batch, classes, x, labels, loss);
            TensorAssert.AllClose(D(loss), expectedLoss, tol, what + " loss, long labels");
            CpuSoftmaxCrossEntropy.Backward<T, long>(batch, classes, x, labels, dloss, dx);
            TensorAssert.AllClose(D(dx), expectedDx, tol, what + " dx, long labels");

            var intLabels = labels.Select(l => (int)l).ToArray();
            CpuSoftmaxCrossEntropy.Forward<T, int>(batch, classes, x, intLabels, loss);
            TensorAssert.AllClose(D(loss), expectedLoss, tol, what + " loss, int labels");
            CpuSoftmaxCrossEntropy.Backward<T, int>(batch, classes, x, intLabels, dloss, dx);
            TensorAssert.AllClose(D(dx), expectedDx, tol, what + " dx, int labels");

            // MXNet passes labels as float32 arrays.
            var floatLabels = labels.Select(l => (float)l).ToArray();
            CpuSoftmaxCrossEntropy.Forward<T, float>(batch, classes, x, floatLabels, loss);
            TensorAssert.AllClose(D(loss), expectedLoss, tol, what + " loss, float labels");
        }
    }

    [Test]
    public void CrossEntropyBackwardMatchesFiniteDifferences()
    {
        var rng = new Random(9);
        const int batch = 3, classes = 5;
        var x = Data<double>(rng, batch * classes, -3, 3);
        int[] labels = [4, 0, 2];
        double[] dloss = [0.7, 1.3, -0.4];
        var dx = new double[x.Length];
        CpuSoftmaxCrossEntropy.Backward<double, int>(batch, classes, x, labels, dloss, dx);

        double Loss()
        {
            var loss = new double[batch];
            CpuSoftmaxCrossEntropy.Forward<double, int>(batch, classes, x, labels, loss);
            return loss.Zip(dloss, (a, b) => a * b).Sum();
        }

        TensorAssert.AllClose(dx, Numeric(x, Loss), FiniteDifference, "dx");
    }

    [Test]
    public void CrossEntropyOfLargeLogitsStaysFinite()
    {
        var rng = new Random(10);
        const int batch = 6, classes = 11;
        var x = Data<float>(rng, batch * classes, -1000, 1000);
        var labels = Enumerable.Range(0, batch).Select(i => (long)(i * 7 % classes)).ToArray();
        var loss = new float[batch];
        CpuSoftmaxCrossEntropy.Forward<float, long>(batch, classes, x, labels, loss);
        loss.ShouldAllBe(v => float.IsFinite(v) && v >= 0);
        TensorAssert.AllClose(D(loss), SoftmaxReference.CrossEntropy(D(x), labels, batch, classes), Float32(classes),
            "loss");
        var dloss = Enumerable.Repeat(1f, batch).ToArray();
        var dx = new float[x.Length];
        CpuSoftmaxCrossEntropy.Backward<float, long>(batch, classes, x, labels, dloss, dx);
        dx.ShouldAllBe(v => float.IsFinite(v));
        TensorAssert.AllClose(D(dx), SoftmaxReference.CrossEntropyBackward(D(x), labels, D(dloss), batch, classes),
            Float32(classes), "dx");
    }

    [Test]
    public void CrossEntropyRejectsBadLabelsAndSizes()
    {
        var x = new float[40];
        var loss = new float[4];
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, int>(4, 10, x, [0, 1, 2, 12], loss))
            .Message.ShouldStartWith("softmax_cross_entropy: label 12 at index 3 is out of range for 10 classes");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, long>(4, 10, x, [0, -1, 2, 3], loss))
            .Message.ShouldStartWith("softmax_cross_entropy: label -1 at index 1 is out of range for 10 classes");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, float>(4, 10, x, [0, 1, 2.5f, 3], loss))
            .Message.ShouldStartWith("softmax_cross_entropy: label 2.5 at index 2");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Backward<float, int>(4, 10, x, [10, 1, 2, 3], loss, x))
            .Message.ShouldStartWith("softmax_cross_entropy_backward: label 10 at index 0 is out of range");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, int>(4, 9, x, [0, 1, 2, 3], loss))
            .Message.ShouldStartWith("softmax_cross_entropy: logits have 40 elements but (batch 4, classes 9)");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, int>(4, 10, x, [0, 1, 2], loss))
            .Message.ShouldStartWith("softmax_cross_entropy: labels has 3 elements but the batch has 4 samples");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, int>(4, 10, x, [0, 1, 2, 3], new float[5]))
            .Message.ShouldStartWith("softmax_cross_entropy: loss has 5 elements");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Backward<float, int>(4, 10, x, [0, 1, 2, 3], loss, new float[39]))
            .Message.ShouldStartWith("softmax_cross_entropy_backward: dx has 39 elements");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Backward<float, int>(4, 10, x, [0, 1, 2, 3], new float[3], x))
            .Message.ShouldStartWith("softmax_cross_entropy_backward: dloss has 3 elements");
        Should.Throw<ArgumentOutOfRangeException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, int>(-1, 10, x, [], loss))
            .Message.ShouldStartWith("softmax_cross_entropy: sizes must be non-negative");
        Should.Throw<ArgumentException>(() =>
                CpuSoftmaxCrossEntropy.Forward<float, int>(2, 0, [], [0, 0], new float[2]))
            .Message.ShouldStartWith("softmax_cross_entropy: label 0 at index 0 is out of range for 0 classes");
    }

    // ---------------------------------------------------------------- PyTorch goldens

    private static IEnumerable<string> SoftmaxGoldenCases() =>
        Golden.CaseNames("norm").Where(n => n.Contains("softmax_", StringComparison.Ordinal));

    private static IEnumerable<string> CrossEntropyGoldenCases() =>
        Golden.CaseNames("norm").Where(n => n.StartsWith("ce_", StringComparison.Ordinal));

    [Test]
    public void GoldenCasesExist()
    {
        SoftmaxGoldenCases().ShouldNotBeEmpty("run tools/golden/gen_norm.py");
        CrossEntropyGoldenCases().ShouldNotBeEmpty("run tools/golden/gen_norm.py");
    }

    [TestCaseSource(nameof(SoftmaxGoldenCases))]
    public void SoftmaxMatchesPyTorch(string name)
    {
        var g = Golden.Load("norm", name);
        var shape = g["x"].Shape;
        int a = shape.NormalizeAxis(g.Attrs.GetProperty("axis").GetInt32(), "softmax");
        long outer = shape.SizeOf(0, a), inner = shape.SizeOf(a + 1, shape.Rank);
        bool log = g.Attrs.GetProperty("log").GetBoolean();
        double t = g.Attrs.GetProperty("temperature").GetDouble();
        var x = g["x"].ToFloat32();
        var y = new float[x.Length];
        Forward(log, outer, shape[a], inner, x, y, t);
        TensorAssert.AllClose(y, g["y"].ToFloat32(), Tolerances.Golden, name + " y");
        var dx = new float[x.Length];
        Backward(log, outer, shape[a], inner, y, g["dy"].ToFloat32(), dx, t);
        TensorAssert.AllClose(dx, g["dx"].ToFloat32(), Tolerances.Golden, name + " dx");
    }

    [TestCaseSource(nameof(CrossEntropyGoldenCases))]
    public void CrossEntropyMatchesPyTorch(string name)
    {
        var g = Golden.Load("norm", name);
        int batch = g["logits"].Shape[0], classes = g["logits"].Shape[1];
        var x = g["logits"].ToFloat32();
        var labels = g["labels"].ToInt64();
        var loss = new float[batch];
        var dx = new float[x.Length];
        if (Device.Kind != DeviceKind.Cpu)
        {
            // The operators on the device: the loss, then its gradient from the logits, labels and dloss.
            using var scope = NDArray.Scope();
            var logits = NDArray.FromSpan<float>(x, g["logits"].Shape, Device);
            var l = NDArray.FromSpan<long>(labels, new Shape(batch), Device);
            var dloss = NDArray.FromSpan<float>(g["dloss"].ToFloat32(), new Shape(batch), Device);
            loss = NormalizationOps.SoftmaxCrossEntropy.Call(NoAttrs.Instance, logits, l).ToArray();
            dx = NormalizationOps.SoftmaxCrossEntropyBackward.Call(NoAttrs.Instance, logits, l, dloss).ToArray();
        }
        else
        {
            CpuSoftmaxCrossEntropy.Forward<float, long>(batch, classes, x, labels, loss);
            CpuSoftmaxCrossEntropy.Backward<float, long>(batch, classes, x, labels, g["dloss"].ToFloat32(), dx);
        }
        TensorAssert.AllClose(loss, g["loss"].ToFloat32(), Tolerances.Golden, name + " loss");
        TensorAssert.AllClose(dx, g["dx"].ToFloat32(), Tolerances.Golden, name + " dx");
    }
}
