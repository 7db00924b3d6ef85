using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>The GPU elementwise driver against the CPU's, on dense, strided and broadcast operands.</summary>
public sealed class ElementwiseTests : GpuFixture
{
    private static readonly IElementwiseDriver GpuDriver = GpuElementwiseDriver.Instance;
    private static readonly IElementwiseDriver CpuDriver = CpuElementwiseDriver.Instance;

    private float[] RunUnary<TOp>(TOp op, float[] values, TensorLayout layout, Shape outShape)
        where TOp : struct, IUnaryOperator<float>
    {
        var gx = Upload(Gpu, values, layout);
        var gy = Empty<float>(Gpu, outShape);
        GpuDriver.Unary<TOp, float>(GpuContext("unary"), op, gx, gy);
        var cx = Upload(Cpu, values, layout);
        var cy = Empty<float>(Cpu, outShape);
        CpuDriver.Unary<TOp, float>(CpuContext("unary"), op, cx, cy);
        var expected = Download<float>(cy);
        var actual = Download<float>(gy);
        AssertClose(actual, expected, 2e-6, 1e-7, typeof(TOp).Name);
        return actual;
    }

    [Test]
    public void UnaryOperatorsMatchTheCpuOnDenseOperands()
    {
        var x = RandomFloats(1000, 1);
        var layout = TensorLayout.Contiguous(new Shape(10, 100));
        RunUnary(new ExpOperator<float>(), x, layout, layout.Shape);
        RunUnary(new TanhOperator<float>(), x, layout, layout.Shape);
        RunUnary(new SigmoidOperator<float>(), x, layout, layout.Shape);
        RunUnary(new ReluOperator<float>(), x, layout, layout.Shape);
        RunUnary(new ClipOperator<float>(-0.5f, 0.5f), x, layout, layout.Shape);
        RunUnary(new LeakyReluOperator<float>(0.1f), x, layout, layout.Shape);
        RunUnary(new SoftReluOperator<float>(), x, layout, layout.Shape);
        RunUnary(new SignOperator<float>(), x, layout, layout.Shape);
    }

    [Test]
    public void UnaryReadsTransposedAndOffsetViews()
    {
        var x = RandomFloats(7 * 13 + 5, 2);
        // A transposed 13 x 7 view starting at element 5.
        var layout = new TensorLayout(new Shape(13, 7), [1, 13], 5);
        var y = RunUnary(new NegateOperator<float>(), x, layout, new Shape(13, 7));
        y[0].ShouldBe(-x[5]);
        y[1].ShouldBe(-x[5 + 13]);
    }

    [Test]
    public void BinaryBroadcastsRowsColumnsAndScalars()
    {
        var a = RandomFloats(6 * 5 * 4, 3);
        var row = RandomFloats(4, 4);
        var col = RandomFloats(5, 5);
        var shape = new Shape(6, 5, 4);
        var aLayout = TensorLayout.Contiguous(shape);
        var cases = new (float[] Values, TensorLayout Layout)[]
        {
            (row, new TensorLayout(shape, [0, 0, 1])),
            (col, new TensorLayout(shape, [0, 1, 0])),
            (new[] { 2.5f }, new TensorLayout(shape, [0, 0, 0])),
            (a, new TensorLayout(shape, [20, 4, 1])),
        };
        foreach (var (values, layout) in cases)
        {
            Compare(new AddOperator<float>(), a, aLayout, values, layout, shape);
            Compare(new MultiplyOperator<float>(), a, aLayout, values, layout, shape);
            Compare(new MaximumOperator<float>(), values, layout, a, aLayout, shape);
            Compare(new DivideOperator<float>(), a, aLayout, values, layout, shape);
            Compare(new GreaterOperator<float>(), a, aLayout, values, layout, shape);
        }
    }

    [Test]
    public void PowerAndIntegerDivisionFollowTheCpuOperators()
    {
        var shape = new Shape(64);
        var layout = TensorLayout.Contiguous(shape);
        var x = RandomFloats(64, 6, 0.1f, 3f);
        var p = RandomFloats(64, 7, -2f, 2f);
        Compare(new PowerOperator<float>(), x, layout, p, layout, shape);

        var ia = Enumerable.Range(-32, 64).ToArray();
        var ib = Enumerable.Range(0, 64).Select(i => i % 5 - 2).ToArray(); // includes zeros
        var gy = Empty<int>(Gpu, shape);
        GpuDriver.Binary<DivideOperator<int>, int>(GpuContext("divide"), default, Upload(Gpu, ia, shape),
            Upload(Gpu, ib, shape), gy);
        var cy = Empty<int>(Cpu, shape);
        CpuDriver.Binary<DivideOperator<int>, int>(CpuContext("divide"), default, Upload(Cpu, ia, shape),
            Upload(Cpu, ib, shape), cy);
        Download<int>(gy).ShouldBe(Download<int>(cy));
    }

    [Test]
    public void TernaryWhereSelectsThroughBroadcastOperands()
    {
        var shape = new Shape(8, 9);
        var cond = Enumerable.Range(0, 9).Select(i => (float)(i % 2)).ToArray();
        var x = RandomFloats(72, 8);
        var y = RandomFloats(8, 9);
        var condLayout = new TensorLayout(shape, [0, 1]);
        var xLayout = TensorLayout.Contiguous(shape);
        var yLayout = new TensorLayout(shape, [1, 0]);
        var g = Empty<float>(Gpu, shape);
        GpuDriver.Ternary<WhereOperator<float>, float>(GpuContext("where"), default, Upload(Gpu, cond, condLayout),
            Upload(Gpu, x, xLayout), Upload(Gpu, y, yLayout), g);
        var c = Empty<float>(Cpu, shape);
        CpuDriver.Ternary<WhereOperator<float>, float>(CpuContext("where"), default, Upload(Cpu, cond, condLayout),
            Upload(Cpu, x, xLayout), Upload(Cpu, y, yLayout), c);
        Download<float>(g).ShouldBe(Download<float>(c));
    }

    private void Compare<TOp>(TOp op, float[] a, TensorLayout aLayout, float[] b, TensorLayout bLayout, Shape shape)
        where TOp : struct, IBinaryOperator<float>
    {
        var g = Empty<float>(Gpu, shape);
        GpuDriver.Binary<TOp, float>(GpuContext("binary"), op, Upload(Gpu, a, aLayout), Upload(Gpu, b, bLayout), g);
        var c = Empty<float>(Cpu, shape);
        CpuDriver.Binary<TOp, float>(CpuContext("binary"), op, Upload(Cpu, a, aLayout), Upload(Cpu, b, bLayout), c);
        AssertClose(Download<float>(g), Download<float>(c), 2e-6, 1e-7, typeof(TOp).Name);
    }
}
