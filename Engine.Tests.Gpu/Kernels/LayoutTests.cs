using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>GPU layout kernels against the CPU's: cast, concat, split, take, one-hot, pad.</summary>
public sealed class LayoutTests : GpuFixture
{
    [Test]
    public void CastsFollowTheCpuRules()
    {
        var values = new[] { 2.7f, -2.7f, 300.5f, -1e10f, float.NaN, 0.5f, 1e10f, -0.0f };
        var shape = new Shape(values.Length);
        var gi = Empty<int>(Gpu, shape);
        GpuLayout.Cast(Gpu, Upload(Gpu, values, shape), gi);
        var ei = new int[values.Length];
        CpuLayout.Cast<float, int>(values, ei);
        Download<int>(gi).ShouldBe(ei);
        var gb = Empty<byte>(Gpu, shape);
        GpuLayout.Cast(Gpu, Upload(Gpu, new[] { 1, 300, -1, 255, 0, 44, 7, 256 }, shape), gb);
        var eb = new byte[values.Length];
        CpuLayout.Cast<int, byte>(new[] { 1, 300, -1, 255, 0, 44, 7, 256 }, eb);
        Download<byte>(gb).ShouldBe(eb);
        var gd = Empty<double>(Gpu, shape);
        GpuLayout.Cast(Gpu, Upload(Gpu, new long[] { 1, -5, 1L << 40, 0, 3, 4, 5, 6 }, shape), gd);
        Download<double>(gd).ShouldBe(new double[] { 1, -5, 1L << 40, 0, 3, 4, 5, 6 });
    }

    [Test]
    public void ConcatAndSplitAlongAnAxisRoundTrip()
    {
        var a = RandomFloats(2 * 3 * 4, 31);
        var b = RandomFloats(2 * 5 * 4, 32);
        var ga = Upload(Gpu, a, new Shape(2, 3, 4));
        var gb = Upload(Gpu, b, new Shape(2, 5, 4));
        var joined = Empty<float>(Gpu, new Shape(2, 8, 4));
        GpuLayout.Concat(Gpu, [ga, gb], 1, joined);
        var expected = new float[2 * 8 * 4];
        CpuLayout.Concat<float>([a, b], [new Shape(2, 3, 4), new Shape(2, 5, 4)], 1, expected);
        Download<float>(joined).ShouldBe(expected);
        var p1 = Empty<float>(Gpu, new Shape(2, 3, 4));
        var p2 = Empty<float>(Gpu, new Shape(2, 5, 4));
        GpuLayout.Split(Gpu, joined, 1, [p1, p2]);
        Download<float>(p1).ShouldBe(a);
        Download<float>(p2).ShouldBe(b);
    }

    [TestCase(TakeMode.Clip)]
    [TestCase(TakeMode.Wrap)]
    [TestCase(TakeMode.Raise)]
    public void TakeAndItsGradientMatchTheCpu(TakeMode mode)
    {
        var dataShape = new Shape(3, 5, 4);
        var data = RandomFloats(60, 33);
        long[] indices = mode == TakeMode.Raise ? [4, 0, -1, 4, 2] : [7, -3, 0, 4, 4, -9];
        var outShape = CpuLayout.TakeShape(dataShape, new Shape(indices.Length), 1);
        var g = Empty<float>(Gpu, outShape);
        GpuLayout.Take<float>(Gpu, Upload(Gpu, data, dataShape), Upload(Gpu, indices, new Shape(indices.Length)), 1,
            mode, g);
        var expected = new float[outShape.Size];
        CpuLayout.Take<float>(data, dataShape, indices, 1, mode, expected);
        Download<float>(g).ShouldBe(expected);

        var dy = RandomFloats((int)outShape.Size, 34);
        var gd = Empty<float>(Gpu, dataShape);
        GpuLayout.TakeBackward<float>(Gpu, Upload(Gpu, dy, outShape), Upload(Gpu, indices, new Shape(indices.Length)),
            1, mode, gd);
        var ed = new float[60];
        CpuLayout.TakeBackward<float>(dy, indices, dataShape, 1, mode, ed);
        Download<float>(gd).ShouldBe(ed);
    }

    [Test]
    public void TakeRaisesOnAnOutOfRangeIndexBeforeRunning()
    {
        var g = Empty<float>(Gpu, new Shape(2));
        Should.Throw<ArgumentOutOfRangeException>(() => GpuLayout.Take<float>(Gpu,
            Upload(Gpu, new float[3], new Shape(3)), Upload(Gpu, new long[] { 0, 3 }, new Shape(2)), 0,
            TakeMode.Raise, g)).Message.ShouldContain("out of range");
    }

    [Test]
    public void OneHotMatchesTheCpu()
    {
        long[] indices = [0, 3, -1, 9, 2];
        var g = Empty<float>(Gpu, new Shape(5, 4));
        GpuLayout.OneHot(Gpu, Upload(Gpu, indices, new Shape(5)), 4, 1f, -1f, g);
        var expected = new float[20];
        CpuLayout.OneHot<float>(indices, 4, 1f, -1f, expected);
        Download<float>(g).ShouldBe(expected);
    }

    [TestCase(PadMode.Constant)]
    [TestCase(PadMode.Edge)]
    [TestCase(PadMode.Reflect)]
    public void PadAndItsGradientMatchTheCpu(PadMode mode)
    {
        var shape = new Shape(2, 3, 4, 5);
        int[] before = [0, 1, 2, 3], after = [1, 0, 3, 2];
        if (mode == PadMode.Reflect)
        {
            before = [0, 1, 2, 3];
            after = [1, 2, 3, 4];
        }
        var x = RandomFloats((int)shape.Size, 35);
        var outShape = CpuLayout.PadShape(shape, before, after, mode);
        var g = Empty<float>(Gpu, outShape);
        GpuLayout.Pad(Gpu, Upload(Gpu, x, shape), before, after, mode, 0.5f, g);
        var expected = new float[outShape.Size];
        CpuLayout.Pad<float>(x, shape, before, after, mode, 0.5f, expected);
        Download<float>(g).ShouldBe(expected);

        var dy = RandomFloats((int)outShape.Size, 36);
        var gd = Empty<float>(Gpu, shape);
        GpuLayout.PadBackward<float>(Gpu, Upload(Gpu, dy, outShape), before, after, mode, gd);
        var ed = new float[shape.Size];
        CpuLayout.PadBackward<float>(dy, shape, before, after, mode, ed);
        AssertClose(Download<float>(gd), ed, 1e-5, 1e-6, "pad backward");
    }
}
