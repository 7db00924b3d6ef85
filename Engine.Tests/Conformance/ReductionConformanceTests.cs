using System.Numerics;
using System.Text.Json;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// CpuReduce against <see cref="ReductionReference"/> and PyTorch: every op and element type over random shapes
/// of rank 0 to 5, random axis sets and strided layouts (transposed, sliced with an offset and steps, broadcast),
/// larger shapes that reach the vector, blocked and parallel paths, empty arrays, NaN, ties, and every error.
/// </summary>
[Category("Conformance")]
public class ReductionConformanceTests(Device device) : DeviceFixture(device)
{
    /// <summary>
    /// Float64 sums against the sequential float64 reference: both round at about 2^-53 per term, so the bound
    /// grows like the float32 one (sqrt of the number of terms), scaled to float64.
    /// </summary>
    private static Tolerance Float64Sum(long terms) => Tolerances.Float64Sum(terms);

    private static readonly string[] LayoutKinds = ["contiguous", "transposed", "sliced", "broadcast", "mixed"];

    /// <summary>One input: the buffer, the view of it the kernel reads, and the axes to reduce.</summary>
    private sealed record View(double[] Buffer, TensorLayout Layout, int[] Axes, string Kind)
    {
        public override string ToString() => $"{Kind} {Layout}, axes ({string.Join(", ", Axes)})";
    }

    // ---- random shapes against the reference ----

    private static IEnumerable<TestCaseData> OpsAndTypes()
    {
        foreach (var op in Enum.GetValues<ReduceOp>())
        {
            foreach (var type in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64 })
            {
                if (type is DType.Int32 or DType.Int64 && op is ReduceOp.Mean or ReduceOp.Norm or ReduceOp.NormL1)
                    continue;
                yield return new TestCaseData(op, type).SetName($"RandomShapes_{op}_{type.Name()}");
            }
        }
    }

    [TestCaseSource(nameof(OpsAndTypes))]
    public void MatchesTheReferenceOnRandomShapesAxesAndLayouts(ReduceOp op, DType type)
    {
        var rng = new Random(1000 + 17 * (int)op + (int)type);
        bool nans = op is ReduceOp.Max or ReduceOp.Min && !IsInteger(type);
        for (int trial = 0; trial < 200; trial++)
        {
            int rank = trial % 6;
            var dims = TestData.RandomDims(rng, rank);
            if (rank > 0 && rng.Next(8) == 0) dims[rng.Next(rank)] = 0;
            var c = MakeCase(rng, dims, RandomAxes(rng, rank), LayoutKinds[rng.Next(LayoutKinds.Length)],
                Values(op, type), nans && rng.Next(4) == 0);
            Check(op, type, c);
        }
    }

    // ---- larger shapes: vector kernels, blocks, threads ----

    private static readonly (int[] Dims, int[] Axes, string Kind)[] LargeCases =
    [
        ([3, 1000], [1], "contiguous"),      // rows: horizontal SIMD
        ([1000, 3], [0], "contiguous"),      // narrow columns: strided lines
        ([37, 129], [0], "sliced"),          // vertical over a padded, offset view
        ([37, 129], [-1], "transposed"),     // rows that are columns in memory
        ([2, 3, 517], [0, 2], "mixed"),
        ([3, 50000], [1], "contiguous"),     // few outputs, long rows: blocks run in parallel
        ([10000, 16], [0], "contiguous"),    // vertical with one tile: row blocks run in parallel
        ([300, 700], [], "transposed"),      // a transposed full reduction collapses to one line
        ([2000, 100], [1], "contiguous"),    // many outputs in parallel
        ([100, 2000], [0], "contiguous"),    // vertical tiles in parallel
        ([64, 3, 50], [0, 2], "broadcast"),
        ([9, 1100], [0], "sliced"),
        ([700, 5, 24], [0, 1], "sliced"),    // vertical over two reduced axes that do not merge
        ([2, 2000, 3, 13], [1, 3], "sliced"), // blocks that start inside a line of a two-axis reduction
    ];

    private static IEnumerable<TestCaseData> LargeCaseData() => LargeCases.Select((c, i) =>
        new TestCaseData(i).SetName($"LargeShape_{string.Join("x", c.Dims)}_axes_{string.Join("_", c.Axes)}_{c.Kind}"));

    [TestCaseSource(nameof(LargeCaseData))]
    public void MatchesTheReferenceOnLargerShapes(int index)
    {
        var (dims, axes, kind) = LargeCases[index];
        foreach (var op in Enum.GetValues<ReduceOp>())
        {
            var rng = new Random(index * 31 + (int)op);
            Check(op, DType.Float32, MakeCase(rng, dims, axes, kind, Values(op, DType.Float32), false));
            if (op is ReduceOp.Sum or ReduceOp.Max or ReduceOp.Norm)
                Check(op, DType.Float64, MakeCase(rng, dims, axes, kind, Values(op, DType.Float64), false));
            if (op is ReduceOp.Sum or ReduceOp.Min)
                Check(op, DType.Int32, MakeCase(rng, dims, axes, kind, Values(op, DType.Int32), false));
        }
    }

    [Test]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        RequireCpu("the thread count");
        var rng = new Random(5);
        var cases = new[]
        {
            MakeCase(rng, [4, 70000], [1], "contiguous", Values(ReduceOp.Sum, DType.Float32), false),
            MakeCase(rng, [40000, 16], [0], "contiguous", Values(ReduceOp.Sum, DType.Float32), false),
            MakeCase(rng, [2000, 100], [1], "contiguous", Values(ReduceOp.Sum, DType.Float32), false),
            MakeCase(rng, [100, 2000], [0], "sliced", Values(ReduceOp.Sum, DType.Float32), false),
            MakeCase(rng, [1 << 20], [], "contiguous", Values(ReduceOp.Sum, DType.Float32), false),
            MakeCase(rng, [300, 700], [0, 1], "transposed", Values(ReduceOp.Sum, DType.Float32), false),
            // Enough outputs to run serially with few threads, too few with 8: both orders must agree.
            MakeCase(rng, [200, 5000], [0], "contiguous", Values(ReduceOp.Sum, DType.Float32), false),
            MakeCase(rng, [20, 40000], [1], "contiguous", Values(ReduceOp.Sum, DType.Float32), false),
        };
        int saved = CpuParallel.MaxThreads;
        try
        {
            foreach (var c in cases)
            {
                foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Norm })
                {
                    float[]? first = null;
                    foreach (int threads in new[] { 1, 2, 3, 8 })
                    {
                        CpuParallel.MaxThreads = threads;
                        var x = c.Buffer.Select(v => (float)v).ToArray();
                        var y = new float[OutputCount(c)];
                        CpuReduce.Reduce<float>(op, x, c.Layout, c.Axes, y);
                        if (first is null) first = y;
                        else y.ShouldBe(first, $"{op} {c} with {threads} threads");
                    }
                }
            }
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    // ---- semantics ----

    [Test]
    public void EmptyReductionsGiveTheIdentity()
    {
        var layout = TensorLayout.Contiguous(new Shape(0, 3));
        float[] Reduce(ReduceOp op, int[] axes, int n)
        {
            var y = new float[n];
            CpuReduce.Reduce<float>(op, [], layout, axes, y);
            return y;
        }
        Reduce(ReduceOp.Sum, [0], 3).ShouldBe([0f, 0f, 0f]);
        Reduce(ReduceOp.Prod, [0], 3).ShouldBe([1f, 1f, 1f]);
        Reduce(ReduceOp.Mean, [0], 3).ShouldAllBe(v => float.IsNaN(v));
        Reduce(ReduceOp.Norm, [0], 3).ShouldBe([0f, 0f, 0f]);
        Reduce(ReduceOp.NormL1, [0], 3).ShouldBe([0f, 0f, 0f]);
        Reduce(ReduceOp.Sum, [], 1).ShouldBe([0f]);
        Reduce(ReduceOp.Max, [1], 0).ShouldBeEmpty();
        var yi = new long[3];
        CpuReduce.Reduce<long>(ReduceOp.Prod, [], layout, [-2], yi);
        yi.ShouldBe([1L, 1L, 1L]);
        // No outputs: nothing to reduce, even for max over the empty axis.
        CpuReduce.Reduce<double>(ReduceOp.Max, [], TensorLayout.Contiguous(new Shape(2, 0, 3)), [0, 2], []);
        CpuReduce.ArgReduce<float>(true, [], layout, 1, []);
    }

    [Test]
    public void ScalarsReduceToThemselves()
    {
        var layout = new TensorLayout(Shape.Scalar, [], offset: 2);
        double[] x = [9, 9, -4, 9];
        foreach (var (op, expected) in new[]
        {
            (ReduceOp.Sum, -4.0), (ReduceOp.Mean, -4), (ReduceOp.Max, -4), (ReduceOp.Min, -4), (ReduceOp.Prod, -4),
            (ReduceOp.Norm, 4), (ReduceOp.NormL1, 4),
        })
        {
            var y = new double[1];
            CpuReduce.Reduce<double>(op, x, layout, [], y);
            y[0].ShouldBe(expected, op.ToString());
        }
    }

    [Test]
    public void IntegerSumsAndProductsWrapAround()
    {
        var y = new int[1];
        CpuReduce.Reduce<int>(ReduceOp.Sum, [int.MaxValue, 1], TensorLayout.Contiguous(new Shape(2)), [], y);
        y[0].ShouldBe(int.MinValue);
        var big = Enumerable.Repeat(1L << 20, 4).ToArray();
        var z = new long[1];
        CpuReduce.Reduce<long>(ReduceOp.Prod, big, TensorLayout.Contiguous(new Shape(4)), [], z);
        z[0].ShouldBe(unchecked((1L << 40) * (1L << 40)));
        CpuReduce.Reduce<long>(ReduceOp.Max, [long.MinValue, long.MinValue], TensorLayout.Contiguous(new Shape(2)),
            [], z);
        z[0].ShouldBe(long.MinValue);
    }

    [Test]
    public void MaxAndMinPropagateNaNAndHandleInfinity()
    {
        var rng = new Random(3);
        foreach (int n in new[] { 1, 7, 33, 100, 1000 })
        {
            foreach (int at in new[] { 0, n / 2, n - 1 })
            {
                var x = TestData.Uniform(rng, n);
                x[at] = float.NaN;
                foreach (var op in new[] { ReduceOp.Max, ReduceOp.Min, ReduceOp.Sum })
                {
                    var y = new float[1];
                    CpuReduce.Reduce<float>(op, x, TensorLayout.Contiguous(new Shape(n)), [], y);
                    float.IsNaN(y[0]).ShouldBeTrue($"{op} of {n} with NaN at {at}");
                }
            }
        }
        // A column of NaN in a vertical reduction, a row of NaN in a horizontal one.
        var m = TestData.UniformDouble(rng, 50 * 40);
        m[7 * 40 + 13] = double.NaN;
        var cols = new double[40];
        CpuReduce.Reduce<double>(ReduceOp.Min, m, TensorLayout.Contiguous(new Shape(50, 40)), [0], cols);
        for (int j = 0; j < 40; j++) double.IsNaN(cols[j]).ShouldBe(j == 13);
        var rows = new double[50];
        CpuReduce.Reduce<double>(ReduceOp.Max, m, TensorLayout.Contiguous(new Shape(50, 40)), [1], rows);
        for (int i = 0; i < 50; i++) double.IsNaN(rows[i]).ShouldBe(i == 7);
        var inf = Enumerable.Repeat(float.NegativeInfinity, 40).ToArray();
        var r = new float[1];
        CpuReduce.Reduce<float>(ReduceOp.Max, inf, TensorLayout.Contiguous(new Shape(40)), [], r);
        r[0].ShouldBe(float.NegativeInfinity);
    }

    // ---- argmax / argmin ----

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    [TestCase(DType.Int32)]
    [TestCase(DType.Int64)]
    public void ArgReduceMatchesTheReferenceWithTiesAndNaN(DType type)
    {
        var rng = new Random(77 + (int)type);
        // Few distinct values make ties common; NaN appears in a third of the floating-point cases.
        Func<Random, double> values = r => r.Next(-3, 4);
        for (int trial = 0; trial < 200; trial++)
        {
            int rank = 1 + trial % 5;
            var dims = TestData.RandomDims(rng, rank);
            int axis = rng.Next(-rank, rank);
            if (rng.Next(10) == 0) dims[(axis + rank + 1) % rank] = 0;
            var c = MakeCase(rng, dims, [axis], LayoutKinds[rng.Next(LayoutKinds.Length)], values,
                !IsInteger(type) && rng.Next(3) == 0);
            CheckArg(type, c, axis);
        }
        foreach (var (dims, axis, kind) in new (int[], int, string)[]
        {
            ([3, 1000], 1, "contiguous"), ([1000, 40], 0, "contiguous"), ([40, 700], 0, "transposed"),
            ([5, 300, 3], 1, "mixed"), ([2, 97], -1, "sliced"),
        })
        {
            CheckArg(type, MakeCase(rng, dims, [axis], kind, values, false), axis);
            if (!IsInteger(type)) CheckArg(type, MakeCase(rng, dims, [axis], kind, values, true), axis);
        }
    }

    // ---- errors ----

    [Test]
    public void AnOutOfRangeAxisNamesTheOpShapeAndRank()
    {
        var e = Should.Throw<ArgumentOutOfRangeException>(() =>
            CpuReduce.Reduce<float>(ReduceOp.Sum, new float[6], TensorLayout.Contiguous(new Shape(2, 3)), [3],
                new float[2]));
        e.Message.ShouldStartWith("sum: axis 3 is out of range for an array of shape (2, 3) (rank 2)");
        Should.Throw<ArgumentOutOfRangeException>(() =>
                CpuReduce.ReducedShape(ReduceOp.Mean, new Shape(2, 3), [-3], keepDims: false))
            .Message.ShouldStartWith("mean: axis -3 is out of range");
        Should.Throw<ArgumentOutOfRangeException>(() =>
                CpuReduce.Reduce<float>(ReduceOp.Prod, [1f], TensorLayout.Contiguous(Shape.Scalar), [0], [0f]))
            .Message.ShouldStartWith("prod: axis 0 is out of range for an array of shape () (rank 0)");
    }

    [Test]
    public void ARepeatedAxisIsRefused()
    {
        var e = Should.Throw<ArgumentException>(() => CpuReduce.ReducedShape(new Shape(2, 3), [1, -1], false, "max"));
        e.Message.ShouldStartWith("max: axis -1 (axis 1 of shape (2, 3)) appears more than once in axes (1, -1)");
    }

    [Test]
    public void ReducedShapeRemovesOrKeepsTheAxes()
    {
        var s = new Shape(2, 3, 4, 5);
        CpuReduce.ReducedShape(s, [1, -1], keepDims: false).ShouldBe(new Shape(2, 4));
        CpuReduce.ReducedShape(s, [-1, 1], keepDims: true).ShouldBe(new Shape(2, 1, 4, 1));
        CpuReduce.ReducedShape(s, [], keepDims: false).ShouldBe(Shape.Scalar);
        CpuReduce.ReducedShape(s, [], keepDims: true).ShouldBe(new Shape(1, 1, 1, 1));
        CpuReduce.ReducedShape(Shape.Scalar, [], keepDims: true).ShouldBe(Shape.Scalar);
    }

    [Test]
    public void BadBuffersAndTypesNameTheOp()
    {
        var layout = TensorLayout.Contiguous(new Shape(2, 3));
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<float>(ReduceOp.Sum, new float[6], layout, [0],
            new float[2])).Message.ShouldStartWith("sum: the output has 2 elements, but reducing shape (2, 3)");
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<float>(ReduceOp.Max, new float[5], layout, [0],
            new float[3])).Message.ShouldStartWith("max: layout (2, 3)");
        var negative = new TensorLayout(new Shape(2, 3), [-3, 1], offset: 3);
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<float>(ReduceOp.Min, new float[6], negative, [0],
            new float[3])).Message.ShouldStartWith("min: negative stride");
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<int>(ReduceOp.Mean, new int[6], layout, [0],
            new int[3])).Message.ShouldStartWith("mean: int32 input is not supported");
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<long>(ReduceOp.NormL1, new long[6], layout, [0],
            new long[3])).Message.ShouldStartWith("norm: int64 input is not supported");
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<byte>(ReduceOp.Sum, new byte[6], layout, [0],
            new byte[3])).Message.ShouldStartWith("sum: element type Byte is not supported");
        Should.Throw<ArgumentOutOfRangeException>(() => CpuReduce.Reduce<float>((ReduceOp)42, new float[6], layout,
            [0], new float[3])).Message.ShouldStartWith("reduce: unknown reduction 42");
        Should.Throw<ArgumentNullException>(() => CpuReduce.Reduce<float>(ReduceOp.Sum, new float[6], null!, [0],
            new float[3]));
    }

    [Test]
    public void MaxOverAnEmptyAxisIsRefused()
    {
        var layout = TensorLayout.Contiguous(new Shape(0, 3));
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<float>(ReduceOp.Max, [], layout, [0], new float[3]))
            .Message.ShouldStartWith("max: cannot reduce over a zero-size axis of shape (0, 3)");
        Should.Throw<ArgumentException>(() => CpuReduce.Reduce<int>(ReduceOp.Min, [], layout, [], new int[1]))
            .Message.ShouldStartWith("min: cannot reduce over a zero-size axis of shape (0, 3)");
    }

    [Test]
    public void ArgReduceErrorsNameTheOp()
    {
        var layout = TensorLayout.Contiguous(new Shape(2, 3));
        Should.Throw<ArgumentOutOfRangeException>(() => CpuReduce.ArgReduce<float>(true, new float[6], layout, 2,
            new long[2])).Message.ShouldStartWith("argmax: axis 2 is out of range for an array of shape (2, 3)");
        Should.Throw<ArgumentException>(() => CpuReduce.ArgReduce<float>(false, new float[6], layout, 1,
            new long[3])).Message.ShouldStartWith("argmin: the output has 3 elements, but reducing shape (2, 3)");
        Should.Throw<ArgumentException>(() => CpuReduce.ArgReduce<double>(false, [], TensorLayout.Contiguous(
            new Shape(2, 0)), 1, new long[2])).Message.ShouldStartWith(
            "argmin: cannot reduce over a zero-size axis of shape (2, 0)");
        Should.Throw<ArgumentOutOfRangeException>(() => CpuReduce.ArgReduce<int>(true, [1],
            TensorLayout.Contiguous(Shape.Scalar), 0, new long[1])).Message.ShouldStartWith("argmax: axis 0");
        Should.Throw<ArgumentException>(() => CpuReduce.ArgReduce<Half>(true, new Half[6], layout, 0,
            new long[3])).Message.ShouldStartWith("argmax: element type Half is not supported");
    }

    // ---- canonical form ----

    [Test]
    public void ThePlanMergesAxesIntoOuterReduceInner()
    {
        var plan = ReducePlan.Create(TensorLayout.Contiguous(new Shape(2, 3, 4, 5)), [false, true, true, false]);
        plan.KeptSizes.ShouldBe([2L, 5L]);
        plan.KeptX.ShouldBe([60L, 1L]);
        plan.KeptY.ShouldBe([5L, 1L]);
        plan.ReducedSizes.ShouldBe([12L]);
        plan.ReducedX.ShouldBe([5L]);

        // A transposed matrix reduced over both axes is one contiguous line.
        var transposed = new TensorLayout(new Shape(7, 3), [1, 7]);
        plan = ReducePlan.Create(transposed, [true, true]);
        plan.ReducedSizes.ShouldBe([21L]);
        plan.ReducedX.ShouldBe([1L]);
        plan.KeptSizes.ShouldBeEmpty();

        // Size-1 axes vanish; a broadcast axis goes outermost.
        plan = ReducePlan.Create(new TensorLayout(new Shape(1, 4, 1, 6), [0, 1, 9, 0]), [true, true, false, true]);
        plan.ReducedSizes.ShouldBe([6L, 4L]);
        plan.ReducedX.ShouldBe([0L, 1L]);
        plan.KeptSizes.ShouldBeEmpty();
        plan.ReduceCount.ShouldBe(24);
    }

    // ---- PyTorch goldens ----

    [Test]
    public void MatchesPyTorchGoldens()
    {
        var names = Golden.CaseNames("reduce").ToList();
        names.ShouldNotBeEmpty("no golden files in Golden/reduce; run tools/golden/gen_reduce.py");
        foreach (string name in names)
        {
            var g = Golden.Load("reduce", name);
            string op = g.Attrs.GetProperty("op").GetString()!;
            var x = g["x"];
            var layout = TensorLayout.Contiguous(x.Shape);
            if (g.Attrs.TryGetProperty("permute", out var permute))
            {
                int[] perm = permute.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                long[] strides = x.Shape.ContiguousStrides();
                layout = new TensorLayout(new Shape(perm.Select(p => x.Shape[p]).ToArray()),
                    perm.Select(p => strides[p]).ToArray());
            }
            if (op is "argmax" or "argmin")
            {
                int axis = g.Attrs.GetProperty("axis").GetInt32();
                var indices = new long[g["y"].Shape.Size];
                if (x.DType == DType.Float64)
                    CpuReduce.ArgReduce<double>(op == "argmax", x.ToFloat64(), layout, axis, indices);
                else
                    CpuReduce.ArgReduce<float>(op == "argmax", x.ToFloat32(), layout, axis, indices);
                indices.ShouldBe(g["y"].ToInt64(), name);
                continue;
            }
            var reduceOp = op switch
            {
                "sum" => ReduceOp.Sum, "mean" => ReduceOp.Mean, "max" => ReduceOp.Max, "min" => ReduceOp.Min,
                "prod" => ReduceOp.Prod, "norm" => ReduceOp.Norm, "norm_l1" => ReduceOp.NormL1,
                _ => throw new InvalidDataException($"golden case {name}: unknown op {op}"),
            };
            int[] axes = g.Attrs.GetProperty("axes").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            bool keepDims = g.Attrs.GetProperty("keepdims").GetBoolean();
            var shape = g.Attrs.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            CpuReduce.ReducedShape(reduceOp, layout.Shape, axes, keepDims).ShouldBe(new Shape(shape), name);
            if (x.DType == DType.Float64)
            {
                var y = new double[g["y"].Shape.Size];
                CpuReduce.Reduce<double>(reduceOp, x.ToFloat64(), layout, axes, y);
                TensorAssert.AllClose(y, g["y"].ToFloat64(), Tolerances.Golden, name);
            }
            else
            {
                var y = new float[g["y"].Shape.Size];
                CpuReduce.Reduce<float>(reduceOp, x.ToFloat32(), layout, axes, y);
                TensorAssert.AllClose(y, g["y"].ToFloat32(), Tolerances.Golden, name);
            }
        }
    }

    // ---- helpers ----

    private static bool IsInteger(DType type) => type is DType.Int32 or DType.Int64;

    /// <summary>Values for an op: products stay near magnitude 1, integers are small so sums stay exact.</summary>
    private static Func<Random, double> Values(ReduceOp op, DType type)
    {
        if (IsInteger(type)) return op == ReduceOp.Prod ? r => r.Next(-3, 4) : r => r.Next(-9, 10);
        if (op == ReduceOp.Prod) return r => (r.Next(4) == 0 ? -1 : 1) * (0.8 + 0.45 * r.NextDouble());
        return r => 2 * r.NextDouble() - 1;
    }

    private static int[] RandomAxes(Random rng, int rank)
    {
        if (rank == 0 || rng.Next(5) == 0) return [];
        var axes = Enumerable.Range(0, rank).Where(_ => rng.Next(2) == 0).OrderBy(_ => rng.Next()).ToArray();
        for (int i = 0; i < axes.Length; i++)
        {
            if (rng.Next(2) == 0) axes[i] -= rank;
        }
        return axes;
    }

    /// <summary>
    /// A view of shape <paramref name="dims"/> into a fresh buffer: the axes laid out in a random memory order
    /// (transposed), with padding, steps of 2 and an offset (sliced), or with stride 0 (broadcast).
    /// </summary>
    private static View MakeCase(Random rng, int[] dims, int[] axes, string kind, Func<Random, double> value,
        bool withNaN)
    {
        int rank = dims.Length;
        bool transposed = kind is "transposed" or "mixed", sliced = kind is "sliced" or "mixed";
        bool broadcast = kind is "broadcast" or "mixed";
        int[] order = Enumerable.Range(0, rank).ToArray();
        if (transposed) rng.Shuffle(order);
        var strides = new long[rank];
        int broadcastAxis = rank > 0 && broadcast ? rng.Next(rank) : -1;
        long extent = 1;
        for (int j = rank - 1; j >= 0; j--)
        {
            int a = order[j];
            if (a == broadcastAxis || (broadcast && rng.Next(4) == 0)) continue; // stride 0
            int step = sliced && rng.Next(3) == 0 ? 2 : 1;
            int pad = sliced ? rng.Next(3) : 0;
            strides[a] = extent * step;
            extent *= (long)Math.Max(dims[a] - 1, 0) * step + 1 + pad;
        }
        long offset = sliced ? rng.Next(5) : 0;
        var buffer = new double[offset + extent + (sliced ? rng.Next(3) : 0)];
        for (int i = 0; i < buffer.Length; i++) buffer[i] = value(rng);
        if (withNaN)
        {
            for (int i = 0; i < buffer.Length; i++)
            {
                if (rng.Next(Math.Max(2, buffer.Length / 3)) == 0) buffer[i] = double.NaN;
            }
        }
        return new View(buffer, new TensorLayout(new Shape(dims), strides, offset), axes, kind);
    }

    private static long OutputCount(View c) => CpuReduce.ReducedShape(c.Layout.Shape, c.Axes, false).Size;

    private static long ReduceCount(View c) => c.Layout.Shape.Size == 0
        ? (OutputCount(c) == 0 ? 1 : 0)
        : c.Layout.Shape.Size / OutputCount(c);

    private static void Check(ReduceOp op, DType type, View c)
    {
        switch (type)
        {
            case DType.Float32: CheckFloat<float>(op, c); break;
            case DType.Float64: CheckFloat<double>(op, c); break;
            case DType.Int32: CheckInteger<int>(op, c); break;
            default: CheckInteger<long>(op, c); break;
        }
    }

    private static bool RefusedAsEmpty<T>(ReduceOp op, T[] x, View c) where T : unmanaged
    {
        bool empty = c.Layout.Shape.Size == 0 && OutputCount(c) > 0;
        if (!empty || op is not (ReduceOp.Max or ReduceOp.Min)) return false;
        string message = Should.Throw<ArgumentException>(() =>
            CpuReduce.Reduce<T>(op, x, c.Layout, c.Axes, new T[OutputCount(c)])).Message;
        message.ShouldStartWith($"{CpuReduce.OpName(op)}: cannot reduce over a zero-size axis");
        return true;
    }

    private static void CheckFloat<T>(ReduceOp op, View c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = c.Buffer.Select(T.CreateTruncating).ToArray();
        if (RefusedAsEmpty(op, x, c)) return;
        var y = new T[OutputCount(c)];
        CpuReduce.Reduce<T>(op, x, c.Layout, c.Axes, y);
        // The reference rounded to T: a float32 product may overflow to infinity where the double one does not.
        var expected = ReductionReference.Reduce(op, x.Select(double.CreateTruncating).ToArray(), c.Layout, c.Axes)
            .Select(v => double.CreateTruncating(T.CreateTruncating(v))).ToArray();
        bool single = typeof(T) == typeof(float);
        long n = ReduceCount(c);
        var tol = op is ReduceOp.Max or ReduceOp.Min ? Tolerances.Exact
            : single ? Tolerances.Float32Sum(n) : Float64Sum(n);
        TensorAssert.AllClose(y.Select(double.CreateTruncating).ToArray(), expected, tol,
            $"{op} {typeof(T).Name} {c}");
    }

    private static void CheckInteger<T>(ReduceOp op, View c) where T : unmanaged, IBinaryInteger<T>
    {
        var x = c.Buffer.Select(T.CreateTruncating).ToArray();
        if (RefusedAsEmpty(op, x, c)) return;
        var y = new T[OutputCount(c)];
        CpuReduce.Reduce<T>(op, x, c.Layout, c.Axes, y);
        var expected = ReductionReference.ReduceInteger(op, x.Select(long.CreateTruncating).ToArray(), c.Layout,
            c.Axes, int32: typeof(T) == typeof(int));
        TensorAssert.Equal<long>(y.Select(long.CreateTruncating).ToArray(), expected, $"{op} {typeof(T).Name} {c}");
    }

    private static void CheckArg(DType type, View c, int axis)
    {
        switch (type)
        {
            case DType.Float32: CheckArg<float>(c, axis); break;
            case DType.Float64: CheckArg<double>(c, axis); break;
            case DType.Int32: CheckArg<int>(c, axis); break;
            default: CheckArg<long>(c, axis); break;
        }
    }

    private static void CheckArg<T>(View c, int axis) where T : unmanaged, INumber<T>
    {
        var x = c.Buffer.Select(T.CreateTruncating).ToArray();
        var xd = x.Select(double.CreateTruncating).ToArray();
        int a = axis < 0 ? axis + c.Layout.Rank : axis;
        long outCount = CpuReduce.ReducedShape(c.Layout.Shape, [axis], false).Size;
        foreach (bool isMax in new[] { true, false })
        {
            var indices = new long[outCount];
            if (c.Layout.Shape[a] == 0 && outCount > 0)
            {
                Should.Throw<ArgumentException>(() => CpuReduce.ArgReduce<T>(isMax, x, c.Layout, axis, indices));
                continue;
            }
            CpuReduce.ArgReduce<T>(isMax, x, c.Layout, axis, indices);
            TensorAssert.Equal<long>(indices, ReductionReference.ArgReduce(isMax, xd, c.Layout, axis),
                $"{(isMax ? "argmax" : "argmin")} {typeof(T).Name} {c}");
        }
    }
}
