using Engine.Kernels.Fusion;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Fusion;

/// <summary>
/// Fused-elementwise programs against the operators they stand for, run one by one: every supported dtype, both
/// CPU designs, broadcast and strided inputs, several outputs, the parallel paths and empty arrays.
/// </summary>
public class FusedProgramTests
{
    private static readonly FusionDesign[] Designs = [FusionDesign.GenericStruct, FusionDesign.ChunkedInterpreter];

    private static FusedInstruction Ins(OpDef op, DType dtype, params int[] operands) =>
        new(op.Name, op.Math!.Operator(NoAttrs.Instance, dtype), operands);

    private static NDArray Random(Random rng, DType dtype, params int[] shape)
    {
        var s = new Shape(shape);
        // Small integers so that integer products stay exact; floats in [-2, 2].
        var values = TestData.UniformDouble(rng, s.Size, -2, 2);
        if (dtype is DType.Int32 or DType.Int64) values = values.Select(v => Math.Round(v * 3)).ToArray();
        return Nd.Array(values, s).AsType(dtype);
    }

    private static void ShouldMatch(NDArray actual, NDArray expected, string what)
    {
        actual.Shape.ShouldBe(expected.Shape, what);
        actual.DType.ShouldBe(expected.DType, what);
        var a = actual.AsType(DType.Float64).ToArray<double>();
        var e = expected.AsType(DType.Float64).ToArray<double>();
        var tol = actual.DType == DType.Float32 ? Tolerances.Float32Transcendental
            : actual.DType == DType.Float64 ? new Tolerance(1e-13, 1e-14) : Tolerances.Exact;
        TensorAssert.AllClose(a, e, tol, what);
    }

    /// <summary>(x * b + s) max x - b, with b broadcast along rows and s a scalar; two outputs.</summary>
    [Test]
    public void ArithmeticProgramMatchesTheOperatorsInEveryDType(
        [Values(DType.Float32, DType.Float64, DType.Int32, DType.Int64)] DType dtype,
        [ValueSource(nameof(Designs))] FusionDesign design)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(3);
        var x = Random(rng, dtype, 5, 37);
        var b = Random(rng, dtype, 37);
        var s = Random(rng, dtype);
        var program = new FusedProgram(dtype, 3,
        [
            Ins(ElementwiseOps.Multiply, dtype, 0, 1), Ins(ElementwiseOps.Add, dtype, 3, 2),
            Ins(ElementwiseOps.Maximum, dtype, 4, 0), Ins(ElementwiseOps.Subtract, dtype, 5, 1),
        ], [3, 6], design);
        var y = FusionOps.FusedElementwise.Invoke(new FusedElementwiseAttrs(program, "test"), x, b, s);
        var product = x * b;
        ShouldMatch(y[0], product, "x * b");
        ShouldMatch(y[1], Nd.Maximum(product + s, x) - b, "(x * b + s) max x - b");
    }

    [Test]
    public void TranscendentalChainMatchesTheOperators(
        [Values(DType.Float32, DType.Float64)] DType dtype, [ValueSource(nameof(Designs))] FusionDesign design,
        [Values(1, 100, 70_000)] int length)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(5);
        var x = Random(rng, dtype, length);
        var y = Random(rng, dtype, length);
        // sigmoid(tanh(x) * y) + exp(x) - where(y, x, y): shared registers, unary, binary and ternary steps.
        var program = new FusedProgram(dtype, 2,
        [
            Ins(ElementwiseOps.Tanh, dtype, 0), Ins(ElementwiseOps.Multiply, dtype, 2, 1),
            Ins(ElementwiseOps.Sigmoid, dtype, 3), Ins(ElementwiseOps.Exp, dtype, 0),
            Ins(ElementwiseOps.Add, dtype, 4, 5), Ins(ElementwiseOps.Where, dtype, 1, 0, 1),
            Ins(ElementwiseOps.Subtract, dtype, 6, 7),
        ], [8], design);
        var result = FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "test"), x, y);
        ShouldMatch(result, Nd.Sigmoid(Nd.Tanh(x) * y) + Nd.Exp(x) - Nd.Where(y, x, y), "chain");
    }

    [Test]
    public void StridedAndBroadcastInputsOnTheParallelPaths([ValueSource(nameof(Designs))] FusionDesign design)
    {
        using var scope = NDArray.Scope();
        var rng = new Random(7);
        var x = Random(rng, DType.Float32, 300, 257).Transpose(); // (257, 300), strided
        var column = Random(rng, DType.Float32, 257, 1);
        var program = new FusedProgram(DType.Float32, 2,
            [Ins(ElementwiseOps.Multiply, DType.Float32, 0, 1), Ins(ElementwiseOps.Relu, DType.Float32, 2)], [3],
            design);
        var result = FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "test"), x, column);
        ShouldMatch(result, Nd.Relu(x * column), "relu(x^T * column)");
    }

    [Test]
    public void ClipKeepsItsBoundsInsideTheProgram([ValueSource(nameof(Designs))] FusionDesign design)
    {
        using var scope = NDArray.Scope();
        var x = Random(new Random(9), DType.Float64, 40);
        var clip = new ClipAttrs(-0.5, 0.25);
        var program = new FusedProgram(DType.Float64, 1,
        [
            new FusedInstruction("clip", ElementwiseOps.Clip.Math!.Operator(clip, DType.Float64), 0),
            Ins(ElementwiseOps.Square, DType.Float64, 1),
        ], [2], design);
        var result = FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "test"), x);
        ShouldMatch(result, Nd.Square(ElementwiseOps.Clip.Call(clip, x)), "square(clip(x))");
    }

    [Test]
    public void EmptyArraysGiveEmptyOutputs([ValueSource(nameof(Designs))] FusionDesign design)
    {
        using var scope = NDArray.Scope();
        var x = Nd.Zeros(new Shape(0, 4), DType.Float32);
        var program = new FusedProgram(DType.Float32, 1,
            [Ins(ElementwiseOps.Exp, DType.Float32, 0), Ins(ElementwiseOps.Negative, DType.Float32, 1)], [2],
            design);
        var result = FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "test"), x);
        result.Shape.ShouldBe(new Shape(0, 4));
    }

    [Test]
    public void BadProgramsAndArgumentsAreRefusedWithTheReason()
    {
        var add = ElementwiseOps.Add.Math!.Operator(NoAttrs.Instance, DType.Float32);
        Should.Throw<ArgumentException>(() => new FusedProgram(DType.Float32, 1, [new("add", add, 0, 1)], [1]))
            .Message.ShouldContain("reads register 1");
        Should.Throw<ArgumentException>(() => new FusedProgram(DType.Float64, 2, [new("add", add, 0, 1)], [2]))
            .Message.ShouldContain("not a struct");
        Should.Throw<ArgumentException>(() => new FusedProgram(DType.Float32, 2, [new("add", add, 0, 1)], [0]))
            .Message.ShouldContain("not the result of an instruction");
        var program = new FusedProgram(DType.Float32, 2, [new("add", add, 0, 1)], [2]);
        using var x = Nd.Zeros(new Shape(3), DType.Float32);
        using var d = Nd.Zeros(new Shape(3), DType.Float64);
        Should.Throw<ArgumentException>(() =>
                FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "test"), x, d))
            .Message.ShouldContain("_fused_elementwise: the program runs on float32 but an input is float64");
        Should.Throw<ArgumentException>(() =>
                FusionOps.FusedElementwise.Call(new FusedElementwiseAttrs(program, "t"), x))
            .Message.ShouldContain("takes 2 inputs, got 1");
    }
}
