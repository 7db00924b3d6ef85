using Engine.Kernels.Fusion;
using Engine.Ops;

namespace Engine.Bench;

/// <summary>
/// A chain of four elementwise operators on 4M floats, unfused (four Nd calls, four passes over memory) against
/// the same chain as one fused program in each CPU design. Cases: <c>chain4_x_unfused</c>, <c>chain4_x_generic</c>,
/// <c>chain4_x_interpreter</c> for y = relu(x * 0.5 + 1) * x (one input), and the <c>chain4_abc_*</c> cases for
/// y = relu(a * b + c) - a (three inputs). gb_per_s counts the bytes the fused program must move.
/// The <c>reduce_*</c> cases end the program with a reduction, on the same 4M floats seen as (4096, 1024):
/// <c>reduce_rows</c> sums a * b + c over the last axis, <c>reduce_cols</c> is the bias-gradient shape (relu's
/// backward of g at y, summed over axis 0); <c>_unfused</c> is the pair (the elementwise program writing its
/// result, then the sum), <c>_generic</c> and <c>_interpreter</c> the one fused program in each design.
/// </summary>
public static class FusionSuite
{
    private const int N = 1 << 22;

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        using var x = Nd.Array(Enumerable.Range(0, N).Select(i => (float)Math.Sin(i)).ToArray(), new Shape(N));
        using var b = Nd.Array(Enumerable.Range(0, N).Select(i => (float)Math.Cos(i)).ToArray(), new Shape(N));
        using var c = Nd.Array(Enumerable.Range(0, N).Select(i => (float)(i % 7) - 3).ToArray(), new Shape(N));
        using var half = Nd.Scalar(0.5, DType.Float32);
        using var one = Nd.Scalar(1.0, DType.Float32);
        var f = DType.Float32;
        var single = new FusedProgram(f, 3,
        [
            Ins(ElementwiseOps.Multiply, f, 0, 1), Ins(ElementwiseOps.Add, f, 3, 2), Ins(ElementwiseOps.Relu, f, 4),
            Ins(ElementwiseOps.Multiply, f, 5, 0),
        ], [6]);
        var three = new FusedProgram(f, 3,
        [
            Ins(ElementwiseOps.Multiply, f, 0, 1), Ins(ElementwiseOps.Add, f, 3, 2), Ins(ElementwiseOps.Relu, f, 4),
            Ins(ElementwiseOps.Subtract, f, 5, 0),
        ], [6]);
        var singleGeneric = Attrs(single, FusionDesign.GenericStruct);
        var singleChunked = Attrs(single, FusionDesign.ChunkedInterpreter);
        var threeGeneric = Attrs(three, FusionDesign.GenericStruct);
        var threeChunked = Attrs(three, FusionDesign.ChunkedInterpreter);
        var cases = new (string Name, double Bytes, Func<NDArray> Body)[]
        {
            ("chain4_x_unfused", 2.0 * N * 4, () => Chain(() => x * half, t => t + one, Nd.Relu, t => t * x)),
            ("chain4_x_generic", 2.0 * N * 4, () => Fused(singleGeneric, x, half, one)),
            ("chain4_x_interpreter", 2.0 * N * 4,
                () => Fused(singleChunked, x, half, one)),
            ("chain4_abc_unfused", 4.0 * N * 4, () => Chain(() => x * b, t => t + c, Nd.Relu, t => t - x)),
            ("chain4_abc_generic", 4.0 * N * 4, () => Fused(threeGeneric, x, b, c)),
            ("chain4_abc_interpreter", 4.0 * N * 4,
                () => Fused(threeChunked, x, b, c)),
        };
        foreach (var (name, bytes, body) in cases.Concat(ReduceCases(x, b, c)))
        {
            if (!ctx.Wants(name)) continue;
            yield return ctx.Measure(name, () => body().Dispose(), bytes: bytes);
        }
    }

    private static IEnumerable<(string Name, double Bytes, Func<NDArray> Body)> ReduceCases(NDArray x, NDArray b,
        NDArray c)
    {
        var f = DType.Float32;
        var a2 = x.Reshape(4096, 1024);
        var b2 = b.Reshape(4096, 1024);
        var c2 = c.Reshape(4096, 1024);
        FusedInstruction[] rows = [Ins(ElementwiseOps.Multiply, f, 0, 1), Ins(ElementwiseOps.Add, f, 3, 2)];
        FusedInstruction[] cols = [Ins(ElementwiseOps.ReluBackward, f, 0, 1)];
        var rowsPair = Attrs(new FusedProgram(f, 3, rows, [4]), FusionDesign.GenericStruct);
        var colsPair = Attrs(new FusedProgram(f, 2, cols, [2]), FusionDesign.GenericStruct);
        FusedElementwiseAttrs Rows(FusionDesign design) => Attrs(new FusedProgram(f, 3, rows, [], design,
            new FusedReduction(Kernels.ReduceOp.Sum, 4, [1], false)), design);
        FusedElementwiseAttrs Cols(FusionDesign design) => Attrs(new FusedProgram(f, 2, cols, [], design,
            new FusedReduction(Kernels.ReduceOp.Sum, 2, [0], true)), design);
        var (rowsGeneric, rowsChunked) = (Rows(FusionDesign.GenericStruct), Rows(FusionDesign.ChunkedInterpreter));
        var (colsGeneric, colsChunked) = (Cols(FusionDesign.GenericStruct), Cols(FusionDesign.ChunkedInterpreter));
        return
        [
            ("reduce_rows_unfused", 3.0 * N * 4, () => Chain(() => Fused(rowsPair, a2, b2, c2), t => Nd.Sum(t, [1]))),
            ("reduce_rows_generic", 3.0 * N * 4, () => Fused(rowsGeneric, a2, b2, c2)),
            ("reduce_rows_interpreter", 3.0 * N * 4, () => Fused(rowsChunked, a2, b2, c2)),
            ("reduce_cols_unfused", 2.0 * N * 4,
                () => Chain(() => Fused(colsPair, a2, b2), t => Nd.Sum(t, [0], keepDims: true))),
            ("reduce_cols_generic", 2.0 * N * 4, () => Fused(colsGeneric, a2, b2)),
            ("reduce_cols_interpreter", 2.0 * N * 4, () => Fused(colsChunked, a2, b2)),
        ];
    }

    private static FusedInstruction Ins(OpDef op, DType dtype, params int[] operands) =>
        new(op.Name, op.Math!.Operator(NoAttrs.Instance, dtype), operands);

    /// <summary>One program object per design: a program is compiled once, on its first call.</summary>
    private static FusedElementwiseAttrs Attrs(FusedProgram program, FusionDesign design) =>
        new(program.WithDesign(design), "bench");

    private static NDArray Fused(FusedElementwiseAttrs attrs, params NDArray[] inputs) =>
        FusionOps.FusedElementwise.Call(attrs, inputs);

    /// <summary>Four eager calls; each intermediate is freed once the next one has read it.</summary>
    private static NDArray Chain(Func<NDArray> first, params Func<NDArray, NDArray>[] rest)
    {
        var t = first();
        foreach (var step in rest)
        {
            var next = step(t);
            t.Dispose();
            t = next;
        }
        return t;
    }
}
