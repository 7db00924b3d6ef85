using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Fusion;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Fused programs on the GPU as one kernel (no scratch memory: nothing is stored between instructions) against
/// the CPU's fused run, with strided, broadcast and several outputs; and the instruction-by-instruction fallback.
/// </summary>
public sealed class FusedElementwiseTests : GpuFixture
{
    private static FusedProgram Program(int outputs)
    {
        // r3 = x * b; r4 = clip(r3); r5 = where(r4, x, b) ; r6 = tanh(r5) - c
        var instructions = new FusedInstruction[]
        {
            new("multiply", new MultiplyOperator<float>(), 0, 1), new("clip", new ClipOperator<float>(-0.3f, 0.4f), 3),
            new("where", new WhereOperator<float>(), 4, 0, 1), new("tanh", new TanhOperator<float>(), 5),
            new("subtract", new SubtractOperator<float>(), 6, 2),
        };
        int[] outs = outputs == 2 ? [4, 7] : [3, 4, 5, 6, 7];
        return new FusedProgram(DType.Float32, 3, instructions, outs);
    }

    [TestCase(2)]
    [TestCase(5)]
    public void FusedProgramMatchesTheCpu(int outputs)
    {
        var program = Program(outputs);
        var shape = new Shape(37, 23);
        var x = RandomFloats(23 * 37, 1);
        var xLayout = new TensorLayout(shape, [1, 37], 0); // the transpose of a dense (23, 37)
        var b = RandomFloats(23, 2);
        var bLayout = TensorLayout.Contiguous(new Shape(23)).BroadcastTo(shape);
        var c = RandomFloats(1, 3);
        var cLayout = TensorLayout.Contiguous(Shape.Scalar).BroadcastTo(shape);
        var gpuOut = Enumerable.Range(0, program.Outputs.Count).Select(_ => Empty<float>(Gpu, shape)).ToArray();
        var cpuOut = Enumerable.Range(0, program.Outputs.Count).Select(_ => Empty<float>(Cpu, shape)).ToArray();
        var context = GpuContext("_fused_elementwise");
        GpuFusedElementwise.Run(program, context,
            [Upload(Gpu, x, xLayout), Upload(Gpu, b, bLayout), Upload(Gpu, c, cLayout)], gpuOut);
        CpuFusedElementwise.Run(program,
            [Upload(Cpu, x, xLayout), Upload(Cpu, b, bLayout), Upload(Cpu, c, cLayout)], cpuOut);
        for (int k = 0; k < gpuOut.Length; k++)
            AssertClose(Download<float>(gpuOut[k]), Download<float>(cpuOut[k]), 2e-6, 1e-7, $"output {k}");
        // One kernel needs no intermediates; five outputs exceed the kernel's four and run step by step.
        if (outputs == 2) Assert.That(context.ScratchBytes, Is.EqualTo(0));
    }

    /// <summary>(x * b + 0.5) * x, reduced: register 5 (x * b is register 3, an optional extra output).</summary>
    private static FusedProgram Reducing(ReduceOp op, int[] axes, bool keepDims, int[] outputs) => new(
        DType.Float32, 2,
        [
            FusedInstruction.Constant(DType.Float32, 0.5, "0.5"), new("multiply", new MultiplyOperator<float>(), 0, 1),
            new("add", new AddOperator<float>(), 3, 2), new("multiply", new MultiplyOperator<float>(), 4, 0),
        ], outputs, reduction: new FusedReduction(op, 5, axes, keepDims));

    /// <summary>
    /// Each case reaches another GPU reduction kernel: one thread per output (short rows), one group per output
    /// (long rows, the bias-gradient column sum), and the split kernels (a full reduction).
    /// </summary>
    [TestCase(new[] { 40, 30 }, new[] { 1 }, false, ReduceOp.Sum)]
    [TestCase(new[] { 12, 300 }, new[] { 1 }, true, ReduceOp.Mean)]
    [TestCase(new[] { 500, 24 }, new[] { 0 }, true, ReduceOp.Sum)]
    [TestCase(new[] { 96, 128 }, new int[0], false, ReduceOp.Mean)]
    public void FusedReductionMatchesTheUnfusedGpuBitsAndTheCpu(int[] dims, int[] axes, bool keepDims, ReduceOp op)
    {
        var shape = new Shape(dims);
        var x = RandomFloats((int)shape.Size, 4);
        var b = RandomFloats(dims[^1], 5);
        var bLayout = TensorLayout.Contiguous(new Shape(dims[^1])).BroadcastTo(shape);
        var result = CpuReduce.ReducedShape(op, shape, axes, keepDims);
        TensorArg[] Inputs(DeviceRuntime rt) => [Upload(rt, x, shape), Upload(rt, b, bLayout)];

        // Unfused on the GPU: the program's register 5 materialised, then reduced.
        var plain = new FusedProgram(DType.Float32, 2, Reducing(op, axes, keepDims, []).Instructions, [3, 5]);
        var materialised = new[] { Empty<float>(Gpu, shape), Empty<float>(Gpu, shape) };
        GpuFusedElementwise.Run(plain, GpuContext("_fused_elementwise"), Inputs(Gpu), materialised);
        var unfused = Empty<float>(Gpu, result);
        GpuReduce.Reduce(Gpu, op, materialised[1], axes, unfused);

        foreach (int[] outputs in new[] { Array.Empty<int>(), new[] { 3 } })
        {
            var program = Reducing(op, axes, keepDims, outputs);
            var gpuOut = new[] { Empty<float>(Gpu, result) }.Concat(outputs.Select(_ => Empty<float>(Gpu, shape)))
                .ToArray();
            var context = GpuContext("_fused_elementwise");
            GpuFusedReduce.Run(program, context, Inputs(Gpu), gpuOut);
            context.ScratchBytes.ShouldBe(0, "nothing is stored between the instructions and the reduction");
            Download<float>(gpuOut[0]).ShouldBe(Download<float>(unfused), $"{outputs.Length} extra outputs");
            if (outputs.Length == 1) Download<float>(gpuOut[1]).ShouldBe(Download<float>(materialised[0]));

            var cpuOut = new[] { Empty<float>(Cpu, result) }.Concat(outputs.Select(_ => Empty<float>(Cpu, shape)))
                .ToArray();
            CpuFusedReduce.Run(program, Inputs(Cpu), cpuOut);
            AssertClose(Download<float>(gpuOut[0]), Download<float>(cpuOut[0]), 1e-5, 1e-5, "against the CPU");
        }
    }

    [Test]
    public void FusedReductionsWithTooManyOutputsRunStepByStep()
    {
        var shape = new Shape(7, 50);
        var x = RandomFloats(350, 6);
        var b = RandomFloats(50, 7);
        var bLayout = TensorLayout.Contiguous(new Shape(50)).BroadcastTo(shape);
        // Five materialised registers exceed the one-kernel path's four outputs; the reduced one is not stored.
        var many = new FusedProgram(DType.Float32, 2,
            Reducing(ReduceOp.Sum, [1], false, []).Instructions.Concat([
                new FusedInstruction("exp", new ExpOperator<float>(), 5),
                new FusedInstruction("square", new SquareOperator<float>(), 6),
                new FusedInstruction("tanh", new TanhOperator<float>(), 7)]).ToArray(),
            [3, 4, 5, 6, 7], reduction: new FusedReduction(ReduceOp.Sum, 8, [1], false));
        var gpuOut = new[] { Empty<float>(Gpu, new Shape(7)) }.Concat(Enumerable.Range(0, 5)
            .Select(_ => Empty<float>(Gpu, shape))).ToArray();
        var cpuOut = new[] { Empty<float>(Cpu, new Shape(7)) }.Concat(Enumerable.Range(0, 5)
            .Select(_ => Empty<float>(Cpu, shape))).ToArray();
        var context = GpuContext("_fused_elementwise");
        GpuFusedReduce.Run(many, context, [Upload(Gpu, x, shape), Upload(Gpu, b, bLayout)], gpuOut);
        CpuFusedReduce.Run(many, [Upload(Cpu, x, shape), Upload(Cpu, b, bLayout)], cpuOut);
        for (int k = 0; k < gpuOut.Length; k++)
            AssertClose(Download<float>(gpuOut[k]), Download<float>(cpuOut[k]), 2e-6, 1e-6, $"output {k}");
    }
}
