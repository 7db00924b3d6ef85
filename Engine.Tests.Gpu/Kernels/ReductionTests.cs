using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>GPU reductions against the CPU's on strided inputs, short and long reduced extents.</summary>
public sealed class ReductionTests : GpuFixture
{
    private static readonly ReduceOp[] Ops =
        [ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Max, ReduceOp.Min, ReduceOp.Prod, ReduceOp.Norm, ReduceOp.NormL1];

    [TestCase(new[] { 1 })]
    [TestCase(new[] { 0, 2 })]
    [TestCase(new int[0])]
    [TestCase(new[] { 2 })]
    public void FloatReductionsMatchTheCpu(int[] axes)
    {
        // A transposed view (5, 70, 9) of a (70, 5, 9) buffer: 70 is long enough for the group kernel.
        var shape = new Shape(5, 70, 9);
        var layout = new TensorLayout(shape, [9, 45, 1]);
        var values = RandomFloats(5 * 70 * 9, 21, 0.9f, 1.1f);
        foreach (var op in Ops)
        {
            var outShape = CpuReduce.ReducedShape(op, shape, axes, false);
            var g = Empty<float>(Gpu, outShape);
            GpuReduce.Reduce(Gpu, op, Upload(Gpu, values, layout), axes, g);
            var expected = new float[outShape.Size];
            CpuReduce.Reduce<float>(op, values, layout, axes, expected);
            AssertClose(Download<float>(g), expected, op == ReduceOp.Prod ? 1e-4 : 1e-5, 1e-6, op.ToString());
        }
    }

    [Test]
    public void IntegerAndDoubleReductionsMatchTheCpu()
    {
        var shape = new Shape(6, 100);
        var ints = Enumerable.Range(0, 600).Select(i => i % 17 - 8).ToArray();
        foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min })
        {
            var g = Empty<int>(Gpu, new Shape(6));
            GpuReduce.Reduce(Gpu, op, Upload(Gpu, ints, shape), [1], g);
            var expected = new int[6];
            CpuReduce.Reduce<int>(op, ints, TensorLayout.Contiguous(shape), [1], expected);
            Download<int>(g).ShouldBe(expected);
        }
        var doubles = RandomFloats(600, 22).Select(v => (double)v).ToArray();
        var gd = Empty<double>(Gpu, new Shape(100));
        GpuReduce.Reduce(Gpu, ReduceOp.Mean, Upload(Gpu, doubles, shape), [0], gd);
        var ed = new double[100];
        CpuReduce.Reduce<double>(ReduceOp.Mean, doubles, TensorLayout.Contiguous(shape), [0], ed);
        var actual = Download<double>(gd);
        for (int i = 0; i < 100; i++) actual[i].ShouldBe(ed[i], 1e-12);
    }

    [Test]
    public void LongReductionsOfFewOutputsSplitIntoChunksAndMatchTheCpu()
    {
        // 2 outputs of 9000 elements each: more than two 4096-element chunks apiece, read through a transpose.
        var shape = new Shape(9000, 2);
        var layout = new TensorLayout(shape, [1, 9000]);
        var values = RandomFloats(18000, 24, 0.5f, 1.5f);
        foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Max, ReduceOp.Norm })
        {
            var g = Empty<float>(Gpu, new Shape(2));
            GpuReduce.Reduce(Gpu, op, Upload(Gpu, values, layout), [0], g);
            var expected = new float[2];
            CpuReduce.Reduce<float>(op, values, layout, [0], expected);
            AssertClose(Download<float>(g), expected, 1e-6, 1e-6, op.ToString());
        }
        GpuPtxCheck.Compiled.Keys.ShouldContain(k => k.StartsWith("GpuReduce.PartialKernel"));
    }

    [Test]
    public void MaxPropagatesNaNAndArgMaxTakesTheFirstNaNOrMaximum()
    {
        var shape = new Shape(3, 4);
        var values = new[] { 1f, 5f, 5f, 2f, float.NaN, 1f, 2f, 3f, 0f, float.NaN, 7f, float.NaN };
        var g = Empty<float>(Gpu, new Shape(3));
        GpuReduce.Reduce(Gpu, ReduceOp.Max, Upload(Gpu, values, shape), [1], g);
        var m = Download<float>(g);
        m[0].ShouldBe(5f);
        float.IsNaN(m[1]).ShouldBeTrue();
        float.IsNaN(m[2]).ShouldBeTrue();
        var gi = Empty<long>(Gpu, new Shape(3));
        GpuReduce.ArgReduce(Gpu, true, Upload(Gpu, values, shape), 1, gi);
        var expected = new long[3];
        CpuReduce.ArgReduce<float>(true, values, TensorLayout.Contiguous(shape), 1, expected);
        Download<long>(gi).ShouldBe(expected);
        var strided = RandomFloats(8 * 9, 23);
        var layout = new TensorLayout(new Shape(9, 8), [1, 9]);
        var gm = Empty<long>(Gpu, new Shape(8));
        GpuReduce.ArgReduce(Gpu, false, Upload(Gpu, strided, layout), 0, gm);
        var em = new long[8];
        CpuReduce.ArgReduce<float>(false, strided, layout, 0, em);
        Download<long>(gm).ShouldBe(em);
    }

    [Test]
    public void WrongOutputSizesAreRejectedBeforeAnyKernelRuns()
    {
        var x = Upload(Gpu, new float[12], new Shape(3, 4));
        var y = Empty<float>(Gpu, new Shape(4));
        Should.Throw<ArgumentException>(() => GpuReduce.Reduce(Gpu, ReduceOp.Sum, x, [1], y))
            .Message.ShouldContain("sum");
    }
}
