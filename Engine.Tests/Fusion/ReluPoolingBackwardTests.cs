using Engine.Graphs;
using Engine.Graphs.Passes;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Fusion;

/// <summary>
/// The relu's backward folded into the pooling backward (<see cref="ReluPoolingBackwardPass"/>): the masked kernel
/// gives the bits of the two operators run one after the other, the pass folds exactly the relu-then-pool pairs,
/// and a training graph with it gives autograd's gradient.
/// </summary>
public class ReluPoolingBackwardTests
{
    private static PoolingDescriptor Pool(PoolingMode mode, int n, int c, int h, int w, int k, int s, int p = 0) =>
        new(mode, n, c, h, w, k, k, s, s, p, p, PoolingConvention.Valid, true);

    public static IEnumerable<TestCaseData> Descriptors() =>
    [
        new TestCaseData(Pool(PoolingMode.Max, 5, 6, 24, 24, 2, 2)).SetArgDisplayNames("lenet pool1, staged"),
        new TestCaseData(Pool(PoolingMode.Max, 7, 16, 8, 8, 2, 2)).SetArgDisplayNames("lenet pool2, staged"),
        new TestCaseData(Pool(PoolingMode.Max, 2, 3, 6, 70, 2, 2)).SetArgDisplayNames("2x2 rows of vectors"),
        new TestCaseData(Pool(PoolingMode.Max, 2, 3, 9, 11, 3, 2, 1)).SetArgDisplayNames("3x3 s2 p1 windows"),
        new TestCaseData(Pool(PoolingMode.Avg, 2, 3, 9, 11, 3, 2, 1)).SetArgDisplayNames("avg 3x3 s2 p1"),
    ];

    /// <summary>Relu outputs (a third exactly zero, whole zero windows among them), some negatives and a NaN.</summary>
    private static float[] PooledInput(PoolingDescriptor d, int seed)
    {
        var rng = new Random(seed);
        var x = TestData.Uniform(rng, d.InputLength);
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] < -0.3f) x[i] = 0;
        }
        // One plane of zeros only: every window ties at 0 and its gradient must be masked away.
        Array.Clear(x, 0, d.H * d.W);
        x[^3] = float.NaN;
        return x;
    }

    [TestCaseSource(nameof(Descriptors))]
    public void TheMaskedKernelGivesTheBitsOfPoolingThenReluBackward(PoolingDescriptor d)
    {
        var x = PooledInput(d, 5);
        var y = new float[d.OutputLength];
        CpuPooling.Forward<float>(d, x, y);
        var dy = TestData.Uniform(new Random(6), d.OutputLength);
        var expected = new float[d.InputLength];
        CpuPooling.Backward<float>(d, x, y, dy, expected);
        // _backward_relu's select, written out: dy where y > 0, else 0 (NaN keeps its gradient).
        for (int i = 0; i < expected.Length; i++) expected[i] = x[i] <= 0 ? 0 : expected[i];
        var actual = new float[d.InputLength];
        CpuPooling.Backward<float>(d, x, y, dy, actual, reluMask: true);
        TensorAssert.AllClose(actual, expected, Tolerances.Exact, "masked pooling backward");
        actual.Count(v => v != 0).ShouldBeGreaterThan(0);

        var xd = x.Select(v => (double)v).ToArray();
        var yd = new double[d.OutputLength];
        CpuPooling.Forward<double>(d, xd, yd);
        var dyd = dy.Select(v => (double)v).ToArray();
        var expectedD = new double[d.InputLength];
        CpuPooling.Backward<double>(d, xd, yd, dyd, expectedD);
        for (int i = 0; i < expectedD.Length; i++) expectedD[i] = xd[i] <= 0 ? 0 : expectedD[i];
        var actualD = new double[d.InputLength];
        CpuPooling.Backward<double>(d, xd, yd, dyd, actualD, reluMask: true);
        TensorAssert.AllClose(actualD, expectedD, Tolerances.Float64, "masked pooling backward, double");
    }

    private static Graph ConvReluPool(Func<NDArray, NDArray> activation)
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(2, 3, 8, 8), DType.Float32, Device.Cpu);
        return tracer.Finish([Nd.Sum(Nd.MaxPool2D(activation(x * 2)) * 3)]);
    }

    private static int Masked(Graph g) => g.Operators.Count(n => n.Attrs is PoolingAttrs { ReluMask: true });

    private static int ReluOfPooling(Graph g) => g.Operators.Count(n =>
        n.Op == ElementwiseOps.ReluBackward && n.Inputs[1].Node.Op == PoolingOps.PoolingBackward);

    [Test]
    public void APoolingOfAReluGetsTheMaskAndOtherActivationsDoNot()
    {
        var unfused = new TrainingGraph(ConvReluPool(Nd.Relu)).Joint;
        ReluOfPooling(unfused).ShouldBe(1);
        var relu = new TrainingGraph(ConvReluPool(Nd.Relu), optimize: [new ReluPoolingBackwardPass()]).Joint;
        Masked(relu).ShouldBe(1);
        ReluOfPooling(relu).ShouldBe(0);
        relu.Operators.Count(n => n.Op == PoolingOps.PoolingBackward).ShouldBe(1);
        var tanh = new TrainingGraph(ConvReluPool(Nd.Tanh), optimize: [new ReluPoolingBackwardPass()]).Joint;
        Masked(tanh).ShouldBe(0);
        // The pipeline a hybridized block's training calls run includes the pass; PoolingArgMaxPass then moves the
        // mask into the forward's saved winners, and the backward keeps it in its attributes.
        var pipeline = new TrainingGraph(ConvReluPool(Nd.Relu),
            optimize: CompilerPipeline.AfterGradient(1, new CompilerOptions())).Joint;
        pipeline.Operators.Count(n => n.Attrs is PoolingArgMaxBackwardAttrs { Pooling.ReluMask: true }).ShouldBe(1);
        ReluOfPooling(pipeline).ShouldBe(0);
    }

    [Test]
    public void TheMaskedTrainingGraphGivesAutogradsGradient()
    {
        var graph = ConvReluPool(Nd.Relu);
        var training = new TrainingGraph(graph, optimize: CompilerPipeline.AfterGradient(1, new CompilerOptions()));
        var values = TestData.Uniform(new Random(8), 2 * 3 * 8 * 8);
        using var xi = Nd.Array(values, new Shape(2, 3, 8, 8));
        xi.AttachGrad();
        NDArray yi;
        using (Engine.Autograd.Record()) yi = Nd.Sum(Nd.MaxPool2D(Nd.Relu(xi * 2)) * 3);
        yi.Backward();
        using var xg = Nd.Array(values, new Shape(2, 3, 8, 8));
        xg.AttachGrad();
        NDArray yg;
        using (Engine.Autograd.Record()) yg = training.Record([xg], _ => throw new InvalidOperationException())[0];
        yg.Backward();
        TensorAssert.AllClose(xg.Grad!.ToArray(), xi.Grad!.ToArray(), Tolerances.Exact, "gradient");
        xg.Grad!.ToArray().Count(v => v == 0).ShouldBeGreaterThan(values.Length / 2, "pooling and relu zeros");
        yi.Dispose();
        yg.Dispose();
    }

    [Test]
    public void AForwardPoolingWithAReluMaskNamesTheOperatorAndTheFix()
    {
        using var x = Nd.Zeros(new Shape(1, 1, 4, 4));
        var attrs = new PoolingAttrs(PoolingMode.Max, [2, 2], [2, 2], [0, 0], ReluMask: true);
        var e = Should.Throw<ArgumentException>(() => PoolingOps.Pooling.Call(attrs, x));
        e.Message.ShouldContain("max_pool");
        e.Message.ShouldContain("relu_mask belongs to _backward_pooling");
    }
}
