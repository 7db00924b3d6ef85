using Engine.Kernels.Fusion;
using Engine.Ops;

namespace Engine.Bench;

/// <summary>
/// A chain of four elementwise operators on 4M floats, unfused (four Nd calls, four passes over memory) against
/// the same chain as one fused program in each CPU design. Cases: <c>chain4_x_unfused</c>, <c>chain4_x_generic</c>,
/// <c>chain4_x_interpreter</c> for y = relu(x * 0.5 + 1) * x (one input), and the <c>chain4_abc_*</c> cases for
/// y = relu(a * b + c) - a (three inputs). gb_per_s counts the bytes the fused program must move.
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
        foreach (var (name, bytes, body) in cases)
        {
            if (!ctx.Wants(name)) continue;
            yield return ctx.Measure(name, () => body().Dispose(), bytes: bytes);
        }
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
