using Engine.Ops;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class ElementwiseConformanceTests(Device device) : DeviceFixture(device)
{
    private static readonly string[] PositiveDomain = ["log", "sqrt", "rsqrt"];
    private static readonly string[] IntegerUnary = ["negative", "abs", "sign", "square", "relu"];
    private static readonly string[] IntegerBinary =
        ["add", "subtract", "multiply", "maximum", "minimum", "equal", "not_equal", "greater", "greater_equal",
            "lesser", "lesser_equal"];

    public static IEnumerable<string> UnaryOps => ElementwiseReference.Unary.Keys;

    public static IEnumerable<string> BinaryOps => ElementwiseReference.Binary.Keys;

    private static double[] Inputs(Random rng, long n, string op)
    {
        bool positive = PositiveDomain.Contains(op) || op == "power";
        var v = TestData.UniformDouble(rng, n, positive ? 0.1 : -4, 4);
        // Exact ties and zeros exercise comparisons and relu's kink.
        for (long i = 0; i < n; i += 7) v[i] = positive ? 1 : 0;
        return v;
    }

    [TestCaseSource(nameof(UnaryOps))]
    public void UnaryMatchesReferenceOnRandomShapes(string op)
    {
        var rng = new Random(op.GetHashCode() & 0xffff);
        var def = (OpDef<NoAttrs>)OpRegistry.Get(op);
        foreach (var dims in new[] { new[] { 0 }, new int[0], new[] { 1 }, new[] { 17 }, new[] { 3, 33 },
                     new[] { 2, 1, 65 }, new[] { 4099 } })
        {
            var shape = new Shape(dims);
            var x = Inputs(rng, shape.Size, op);
            var expected = x.Select(ElementwiseReference.Unary[op]).ToArray();
            using (var a = Nd.Array(x.Select(v => (float)v).ToArray(), shape))
            using (var y = def.Call(NoAttrs.Instance, a))
            {
                y.Shape.ShouldBe(shape);
                TensorAssert.AllClose(y.ToArray(), expected.Select(v => (float)v).ToArray(),
                    Tolerances.Float32Transcendental, $"{op} float32 {shape}");
            }
            using (var a = Nd.Array(x, shape))
            using (var y = def.Call(NoAttrs.Instance, a))
                TensorAssert.AllClose(y.ToArray<double>(), expected, Tolerances.Float64Elementwise,
                    $"{op} float64 {shape}");
        }
    }

    [TestCaseSource(nameof(UnaryOps))]
    public void UnaryOnNonContiguousInput(string op)
    {
        var rng = new Random(5);
        var def = (OpDef<NoAttrs>)OpRegistry.Get(op);
        var x = Inputs(rng, 5 * 19, op);
        using var a = Nd.Array(x.Select(v => (float)v).ToArray(), new Shape(5, 19));
        using var t = a.T;
        t.IsContiguous.ShouldBeFalse();
        using var y = def.Call(NoAttrs.Instance, t);
        var expected = new float[19 * 5];
        for (int i = 0; i < 19; i++)
        for (int j = 0; j < 5; j++)
            expected[i * 5 + j] = (float)ElementwiseReference.Unary[op](x[j * 19 + i]);
        TensorAssert.AllClose(y.ToArray(), expected, Tolerances.Float32Transcendental, $"{op} transposed");
    }

    [TestCaseSource(nameof(BinaryOps))]
    public void BinaryBroadcastsLikeNumPy(string op)
    {
        var rng = new Random(op.Length * 31);
        var def = (OpDef<NoAttrs>)OpRegistry.Get(op);
        var cases = new (int[] A, int[] B)[]
        {
            ([0], [0]), ([], []), ([17], [17]), ([3, 33], [33]), ([3, 1], [1, 70]), ([2, 3, 1, 5], [3, 4, 1]),
            ([1], [9, 2]), ([4, 1, 6], [4, 7, 6]), ([0, 3], [1, 3]), ([5000], [1]),
        };
        foreach (var (da, db) in cases)
        {
            Shape sa = new(da), sb = new(db);
            var outShape = ShapeRules.Broadcast(op, sa, sb);
            var a = Inputs(rng, sa.Size, op);
            var b = Inputs(rng, sb.Size, op);
            var expected = ElementwiseReference.Broadcast(a, sa, b, sb, outShape, ElementwiseReference.Binary[op]);
            using (var xa = Nd.Array(a.Select(v => (float)v).ToArray(), sa))
            using (var xb = Nd.Array(b.Select(v => (float)v).ToArray(), sb))
            using (var y = def.Call(NoAttrs.Instance, xa, xb))
            {
                y.Shape.ShouldBe(outShape);
                // The float reference rounds the inputs first so that comparisons see the same values.
                var expectedF = ElementwiseReference.Broadcast(a.Select(v => (double)(float)v).ToArray(), sa,
                    b.Select(v => (double)(float)v).ToArray(), sb, outShape, ElementwiseReference.Binary[op]);
                TensorAssert.AllClose(y.ToArray(), expectedF.Select(v => (float)v).ToArray(),
                    Tolerances.Float32Transcendental, $"{op} {sa} {sb}");
            }
            using (var xa = Nd.Array(a, sa))
            using (var xb = Nd.Array(b, sb))
            using (var y = def.Call(NoAttrs.Instance, xa, xb))
                TensorAssert.AllClose(y.ToArray<double>(), expected, Tolerances.Float64Elementwise,
                    $"{op} f64 {sa} {sb}");
        }
    }

    [TestCaseSource(nameof(IntegerBinary))]
    public void IntegerBinaryIsExact(string op)
    {
        var rng = new Random(11);
        var def = (OpDef<NoAttrs>)OpRegistry.Get(op);
        var a = Enumerable.Range(0, 37).Select(_ => rng.Next(-50, 50)).ToArray();
        var b = Enumerable.Range(0, 37).Select(_ => rng.Next(-50, 50)).ToArray();
        var expected = a.Zip(b, (x, y) => (long)ElementwiseReference.Binary[op](x, y)).ToArray();
        using var xa = Nd.Array(a.Select(v => (long)v).ToArray(), new Shape(37));
        using var xb = Nd.Array(b.Select(v => (long)v).ToArray(), new Shape(37));
        using var y = def.Call(NoAttrs.Instance, xa, xb);
        y.DType.ShouldBe(DType.Int64);
        TensorAssert.Equal<long>(y.ToArray<long>(), expected, op);
        using var ia = Nd.Array(a, new Shape(37));
        using var ib = Nd.Array(b, new Shape(37));
        using var yi = def.Call(NoAttrs.Instance, ia, ib);
        TensorAssert.Equal<int>(yi.ToArray<int>(), expected.Select(v => (int)v).ToArray(), op + " int32");
    }

    [TestCaseSource(nameof(IntegerUnary))]
    public void IntegerUnaryIsExact(string op)
    {
        var def = (OpDef<NoAttrs>)OpRegistry.Get(op);
        var a = Enumerable.Range(-20, 41).ToArray();
        using var x = Nd.Array(a, new Shape(41));
        using var y = def.Call(NoAttrs.Instance, x);
        TensorAssert.Equal<int>(y.ToArray<int>(), a.Select(v => (int)ElementwiseReference.Unary[op](v)).ToArray(), op);
    }

    [Test]
    public void ClipWhereAndLeakyRelu()
    {
        using var x = Nd.Array([-3f, -0.5f, 0f, 0.5f, 3f, float.NaN]);
        using (var c = Nd.Clip(x, -1, 1)) c.ToArray().ShouldBe([-1f, -0.5f, 0f, 0.5f, 1f, float.NaN]);
        using (var l = Nd.LeakyRelu(x, 0.1))
            TensorAssert.AllClose(l.ToArray(), [-0.3f, -0.05f, 0f, 0.5f, 3f, float.NaN], Tolerances.Exact, "leaky");
        var big = Enumerable.Range(0, 100).Select(i => (float)(i - 50)).ToArray();
        using var xb = Nd.Array(big, new Shape(100));
        using (var c = Nd.Clip(xb, -10, 20))
            c.ToArray().ShouldBe(big.Select(v => Math.Clamp(v, -10f, 20f)).ToArray());
        using var cond = Nd.Array([1f, 0f, 1f]);
        using var a = Nd.Array([1f, 2f, 3f]);
        using var b = Nd.Array([10f, 20f, 30f]);
        using (var w = Nd.Where(cond, a, b)) w.ToArray().ShouldBe([1f, 20f, 3f]);
        using var condCol = Nd.Array([1f, 0f], new Shape(2, 1));
        using (var w = Nd.Where(condCol, a, b)) w.ToArray().ShouldBe([1f, 2f, 3f, 10f, 20f, 30f]);
    }

    /// <summary>
    /// A broadcast product runs row by row (here 10-wide rows of a against one row of b); the driver's cost per
    /// call must not grow with the rows. Reading an operator's Vectorized through the interface boxed the struct on
    /// every row: 24 bytes a row.
    /// </summary>
    [Test]
    public void RowByRowKernelsAllocateNothingPerRow()
    {
        long Allocated(int rows)
        {
            var a = new float[rows * 10];
            var b = new float[10];
            var y = new float[rows * 10];
            var aLayout = TensorLayout.Contiguous(new Shape(rows, 10));
            var bLayout = new TensorLayout(new Shape(rows, 10), [0, 1]);
            var op = new Engine.Kernels.Cpu.AddOperator<float>();
            Engine.Kernels.Cpu.CpuElementwise.Binary(op, a, aLayout, b, bLayout, y);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Engine.Kernels.Cpu.CpuElementwise.Binary(op, a, aLayout, b, bLayout, y);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        long few = Allocated(4), many = Allocated(4000);
        many.ShouldBeLessThanOrEqualTo(few, $"bytes allocated by one call: {few} for 4 rows, {many} for 4000");
    }

    [Test]
    public void BadInputNamesTheOperator()
    {
        using var a = Nd.Zeros(2, 3);
        using var b = Nd.Zeros(4, 3);
        Should.Throw<ArgumentException>(() => Nd.Add(a, b)).Message.ShouldContain("add: shapes (2, 3) and (4, 3)");
        using var i = Nd.Array([1, 2, 3, 4, 5, 6], new Shape(2, 3));
        Should.Throw<ArgumentException>(() => Nd.Add(a, i))
            .Message.ShouldContain("add: operands have different dtypes");
        Should.Throw<ArgumentException>(() => Nd.Exp(i)).Message.ShouldContain("exp: expects float32 or float64");
        Should.Throw<ArgumentException>(() => Nd.Clip(a, 2, 1)).Message.ShouldContain("clip: min 2");
    }

    [Test]
    public void GoldenFromPyTorch()
    {
        var names = Golden.CaseNames("elementwise").ToList();
        names.ShouldNotBeEmpty("run tools/golden/gen_elementwise.py");
        foreach (var name in names)
        {
            var c = Golden.Load("elementwise", name);
            string op = c.Attrs.GetProperty("op").GetString()!;
            var def = (OpDef<NoAttrs>)OpRegistry.Get(op);
            var inputs = c.Arrays.Keys.Where(k => k.StartsWith("in")).Order()
                .Select(k => Nd.Array(c[k].ToFloat32(), c[k].Shape)).ToArray();
            using var y = def.Call(NoAttrs.Instance, inputs);
            y.Shape.ShouldBe(c["out"].Shape, name);
            TensorAssert.AllClose(y.ToArray(), c["out"].ToFloat32(), Tolerances.Golden, name);
            foreach (var x in inputs) x.Dispose();
        }
    }
}
