using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Fusion;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Fusion;

/// <summary>
/// Fused programs that end with a reduction against the same program materialised and then reduced by the sum or
/// mean operator: the same bits for float32 (the fused driver folds the same lines in the same order), at one
/// thread and at many, in both CPU designs, over every path of the reduction driver (row sums, long rows split
/// into blocks, full reductions, column sums of the bias-gradient kind, narrow columns, middle axes).
/// </summary>
[NonParallelizable]
public class FusedReduceTests
{
    private static readonly FusionDesign[] Designs = [FusionDesign.GenericStruct, FusionDesign.ChunkedInterpreter];

    private static FusedInstruction Ins(OpDef op, DType dtype, params int[] operands) =>
        new(op.Name, op.Math!.Operator(NoAttrs.Instance, dtype), operands);

    /// <summary>Shape, axes (empty: all), keepdims, mean: each reaches another path of the driver.</summary>
    public static IEnumerable<TestCaseData> Cases() =>
    [
        new TestCaseData(new[] { 64, 1000 }, new[] { 1 }, false, false).SetArgDisplayNames("rows"),
        new TestCaseData(new[] { 2, 100_000 }, new[] { -1 }, true, false).SetArgDisplayNames("long rows"),
        new TestCaseData(new[] { 300, 700 }, Array.Empty<int>(), false, true).SetArgDisplayNames("mean of all"),
        new TestCaseData(new[] { 700, 300 }, new[] { 0 }, true, false).SetArgDisplayNames("bias gradient"),
        new TestCaseData(new[] { 3000, 200 }, new[] { 0 }, false, true).SetArgDisplayNames("tall columns"),
        new TestCaseData(new[] { 90, 2500 }, new[] { 0 }, false, false).SetArgDisplayNames("wide columns"),
        new TestCaseData(new[] { 5, 6, 7 }, new[] { 1 }, false, false).SetArgDisplayNames("middle axis"),
        new TestCaseData(new[] { 6, 5 }, new[] { 0 }, false, false).SetArgDisplayNames("narrow columns"),
        new TestCaseData(new[] { 4, 1, 9 }, new[] { 0, 2 }, true, true).SetArgDisplayNames("outer and inner"),
    ];

    /// <summary>(x * b + 0.5) * x with b broadcast along the last axis: register 5 is reduced.</summary>
    private static FusedInstruction[] Instructions(DType dtype) =>
    [
        FusedInstruction.Constant(dtype, 0.5, "0.5"), Ins(ElementwiseOps.Multiply, dtype, 0, 1),
        Ins(ElementwiseOps.Add, dtype, 3, 2), Ins(ElementwiseOps.Multiply, dtype, 4, 0),
    ];

    [TestCaseSource(nameof(Cases))]
    public void FusedReductionGivesTheUnfusedBits(int[] dims, int[] axes, bool keepDims, bool mean)
    {
        using var scope = NDArray.Scope();
        var shape = new Shape(dims);
        var rng = new Random(4);
        var x = Nd.Array(TestData.Uniform(rng, shape.Size), shape);
        var b = Nd.Array(TestData.Uniform(rng, dims[^1]), new Shape(dims[^1]));
        var normalized = axes.Select(a => a < 0 ? a + dims.Length : a).ToArray();
        var op = mean ? ReduceOp.Mean : ReduceOp.Sum;
        var unfused = new FusedProgram(DType.Float32, 2, Instructions(DType.Float32), [3, 5]);
        var materialised = FusionOps.FusedElementwise.Invoke(new FusedElementwiseAttrs(unfused, "test"), x, b);
        var reduced = mean ? Nd.Mean(materialised[1], axes, keepDims) : Nd.Sum(materialised[1], axes, keepDims);
        var expected = reduced.ToArray();
        int saved = CpuParallel.MaxThreads;
        try
        {
            foreach (var design in Designs)
            {
                foreach (int threads in new[] { 1, Math.Max(4, saved) })
                {
                    CpuParallel.MaxThreads = threads;
                    // Alone, and with the product (register 3) also written out.
                    foreach (int[] outputs in new[] { Array.Empty<int>(), new[] { 3 } })
                    {
                        var program = new FusedProgram(DType.Float32, 2, Instructions(DType.Float32), outputs,
                            design, new FusedReduction(op, 5, normalized, keepDims));
                        var y = FusionOps.FusedElementwise.Invoke(new FusedElementwiseAttrs(program, "test"), x, b);
                        y.Length.ShouldBe(1 + outputs.Length);
                        y[0].Shape.ShouldBe(reduced.Shape);
                        string what = $"{design}, {threads} threads, {outputs.Length} extra outputs";
                        y[0].ToArray().ShouldBe(expected, what);
                        if (outputs.Length == 1) y[1].ToArray().ShouldBe(materialised[0].ToArray(), what);
                    }
                }
            }
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    [Test]
    public void TheReducedRegisterCanAlsoBeAnOutput([ValueSource(nameof(Designs))] FusionDesign design)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(6);
        var x = Nd.Array(TestData.Uniform(rng, 40 * 33), new Shape(40, 33));
        var b = Nd.Array(TestData.Uniform(rng, 33), new Shape(33));
        var program = new FusedProgram(DType.Float32, 2, Instructions(DType.Float32), [5], design,
            new FusedReduction(ReduceOp.Sum, 5, [1], false));
        program.ToString().ShouldBe(
            "(%0, %1) { %2 = 0.5; %3 = multiply(%0, %1); %4 = add(%3, %2); %5 = multiply(%4, %0) } -> " +
            "sum(%5, axis=(1,)), %5");
        var y = FusionOps.FusedElementwise.Invoke(new FusedElementwiseAttrs(program, "test"), x, b);
        var value = (x * b + 0.5) * x;
        y[1].ToArray().ShouldBe(value.ToArray());
        y[0].ToArray().ShouldBe(Nd.Sum(value, [1]).ToArray());
    }

    [Test]
    public void IntegerAndFloat64Reductions([ValueSource(nameof(Designs))] FusionDesign design,
        [Values(DType.Float64, DType.Int32, DType.Int64)] DType dtype)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(8);
        NDArray Whole(int n, params int[] shape) =>
            Nd.Array(TestData.UniformDouble(rng, n, -2, 2).Select(v => Math.Round(v)).ToArray(), new Shape(shape))
                .AsType(dtype);
        var x = Whole(9 * 70, 9, 70);
        var b = Whole(70, 70);
        var op = dtype == DType.Float64 ? ReduceOp.Mean : ReduceOp.Sum;
        var program = new FusedProgram(dtype, 2, Instructions(dtype), [], design,
            new FusedReduction(op, 5, [0], false));
        var y = FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "test"), x, b);
        var value = (x * b + Nd.Full(Shape.Scalar, 0.5, dtype)) * x;
        var expected = op == ReduceOp.Mean ? Nd.Mean(value, [0]) : Nd.Sum(value, [0]);
        y.AsType(DType.Float64).ToArray<double>().ShouldBe(expected.AsType(DType.Float64).ToArray<double>());
    }

    [Test]
    public void ProgramsRejectBadReductionsWithClearMessages()
    {
        var ins = Instructions(DType.Int32);
        Should.Throw<ArgumentException>(() => new FusedProgram(DType.Int32, 2, ins, [], reduction:
            new FusedReduction(ReduceOp.Mean, 5, [0], false))).Message.ShouldContain("mean needs float32 or float64");
        Should.Throw<ArgumentException>(() => new FusedReduction(ReduceOp.Max, 5, [0], false)).Message
            .ShouldContain("sum or mean");
        Should.Throw<ArgumentException>(() => new FusedProgram(DType.Int32, 2, ins, [], reduction:
            new FusedReduction(ReduceOp.Sum, 2, [0], false))).Message.ShouldContain("not a constant");
        Should.Throw<ArgumentException>(() => new FusedProgram(DType.Int32, 2, ins, [])).Message
            .ShouldContain("at least one output");
        using var x = Nd.Zeros(new Shape(2, 3), DType.Int32);
        var program = new FusedProgram(DType.Int32, 2, ins, [], reduction: new FusedReduction(ReduceOp.Sum, 5, [2],
            false));
        Should.Throw<ArgumentException>(() => FusionOps.FusedElementwise.Call(
            new FusedElementwiseAttrs(program, "test"), x, x)).Message.ShouldContain("has rank 2");
    }
}
