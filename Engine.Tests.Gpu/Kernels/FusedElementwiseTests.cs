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
}
