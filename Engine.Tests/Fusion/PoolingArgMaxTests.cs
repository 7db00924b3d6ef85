using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Graphs;
using Engine.Graphs.Passes;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Fusion;

/// <summary>
/// Max pooling that keeps its arg-max (<see cref="PoolingArgMaxPass"/>): the kernels give the bits of the plain
/// forward and backward (relu mask or not, ties, NaN, padding, odd sizes, overlapping windows, 1-D and global), the
/// pass rewrites exactly the poolings whose input nothing else reads, and a training graph with it gives the
/// gradient of the graph without it and of autograd, with a smaller memory plan. In the conformance category, so
/// the per-path runs (<c>dotnet cake --target=ConformancePaths</c>, or <c>DOTNET_EnableAVX512=0</c>) check the AVX2
/// and scalar paths too.
/// </summary>
[TestFixture]
[Category("Conformance")]
public class PoolingArgMaxTests
{
    private static PoolingDescriptor Pool(int n, int c, int h, int w, int k, int s, int p = 0,
        PoolingConvention convention = PoolingConvention.Valid) =>
        new(PoolingMode.Max, n, c, h, w, k, k, s, s, p, p, convention, true);

    public static IEnumerable<TestCaseData> Descriptors() =>
    [
        new TestCaseData(Pool(5, 6, 24, 24, 2, 2)).SetArgDisplayNames("lenet pool1, staged"),
        new TestCaseData(Pool(7, 16, 8, 8, 2, 2)).SetArgDisplayNames("lenet pool2, staged"),
        new TestCaseData(Pool(2, 3, 6, 64, 2, 2)).SetArgDisplayNames("2x2 rows of whole vectors"),
        new TestCaseData(Pool(1, 2, 50, 52, 2, 2)).SetArgDisplayNames("2x2 one plane a batch, staged"),
        new TestCaseData(Pool(1, 2, 70, 70, 2, 2)).SetArgDisplayNames("2x2 too large to stage"),
        new TestCaseData(Pool(2, 3, 9, 11, 2, 2)).SetArgDisplayNames("2x2 odd sizes"),
        new TestCaseData(Pool(2, 3, 9, 11, 2, 2, 0, PoolingConvention.Full)).SetArgDisplayNames("2x2 full, staged"),
        new TestCaseData(Pool(1, 2, 5, 65, 2, 2, 0, PoolingConvention.Full)).SetArgDisplayNames("2x2 full, rows"),
        new TestCaseData(Pool(2, 3, 9, 11, 3, 2, 1)).SetArgDisplayNames("3x3 s2 p1"),
        new TestCaseData(Pool(1, 2, 7, 6, 3, 2, 1, PoolingConvention.Full)).SetArgDisplayNames("3x3 s2 p1 full"),
        new TestCaseData(Pool(2, 2, 7, 8, 3, 1)).SetArgDisplayNames("3x3 s1, overlapping"),
        new TestCaseData(new PoolingDescriptor(PoolingMode.Max, 1, 2, 16, 18, 15, 17, 1, 1))
            .SetArgDisplayNames("15x17, 255 elements"),
        new TestCaseData(PoolingDescriptor.Pool1d(PoolingMode.Max, 2, 3, 17, 3, 2, 1)).SetArgDisplayNames("1-D"),
        new TestCaseData(PoolingDescriptor.Global(PoolingMode.Max, 2, 3, 8, 5)).SetArgDisplayNames("global 8x5"),
    ];

    /// <summary>
    /// Values on a coarse grid (many ties inside windows), a signed zero, a NaN; as a relu's output, the negatives
    /// clamped to 0 and one plane all zeros (every window ties at 0 and is masked away).
    /// </summary>
    private static float[] Input(PoolingDescriptor d, bool relu, int seed)
    {
        var x = TestData.Uniform(new Random(seed), d.InputLength);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Round(x[i] * 3) / 3;
            if (relu && x[i] < 0) x[i] = 0;
        }
        if (relu) Array.Clear(x, 0, d.H * d.W);
        x[^5] = -0f;
        x[^3] = float.NaN;
        return x;
    }

    [TestCaseSource(nameof(Descriptors))]
    public void TheArgMaxKernelsGiveTheBitsOfThePlainForwardAndBackward(PoolingDescriptor d)
    {
        foreach (bool relu in new[] { false, true })
        {
            Check<float>(d, relu);
            Check<double>(d, relu);
        }
    }

    private static void Check<T>(PoolingDescriptor d, bool relu)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string what = $"{typeof(T).Name}, relu mask {relu}";
        var x = Input(d, relu, 5).Select(T.CreateChecked).ToArray();
        var dy = TestData.Uniform(new Random(6), d.OutputLength).Select(T.CreateChecked).ToArray();
        var y = new T[d.OutputLength];
        CpuPooling.Forward<T>(d, x, y);
        var expected = new T[d.InputLength];
        CpuPooling.Backward<T>(d, x, y, dy, expected, relu);

        var y2 = Enumerable.Repeat(T.CreateChecked(7), y.Length).ToArray();
        var argMax = new byte[d.OutputLength];
        argMax.AsSpan().Fill(77);
        CpuPooling.ForwardWithArgMax<T>(d, x, y2, argMax, relu);
        SameBits<T>(y2, y, $"forward, {what}");
        argMax.ShouldAllBe(b => b == CpuPooling.NoWinner || b < d.KernelH * d.KernelW, what);
        var dx = Enumerable.Repeat(T.CreateChecked(7), expected.Length).ToArray();
        CpuPooling.BackwardFromArgMax<T>(d, argMax, dy, dx);
        SameBits<T>(dx, expected, $"backward, {what}");
        if (relu) argMax.ShouldContain(CpuPooling.NoWinner, "masked windows");
    }

    private static void SameBits<T>(T[] actual, T[] expected, string what) where T : unmanaged
    {
        var a = MemoryMarshal.AsBytes(actual.AsSpan());
        var e = MemoryMarshal.AsBytes(expected.AsSpan());
        int size = a.Length / actual.Length;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!a.Slice(i * size, size).SequenceEqual(e.Slice(i * size, size)))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (bit for bit)");
        }
    }

    [Test]
    public void WindowsThatDoNotFitAByteAreRefusedWithTheFix()
    {
        CpuPooling.FitsArgMax(Pool(1, 1, 24, 24, 2, 2)).ShouldBeTrue();
        CpuPooling.FitsArgMax(PoolingDescriptor.Global(PoolingMode.Max, 1, 1, 24, 24)).ShouldBeFalse();
        CpuPooling.FitsArgMax(new PoolingDescriptor(PoolingMode.Avg, 1, 1, 4, 4, 2, 2, 2, 2)).ShouldBeFalse();
        var d = new PoolingDescriptor(PoolingMode.Max, 1, 1, 16, 16, 16, 16, 1, 1);
        var e = Should.Throw<ArgumentException>(() =>
            CpuPooling.ForwardWithArgMax<float>(d, new float[256], new float[1], new byte[1], false));
        e.Message.ShouldContain("at most 255 elements per window");
        e.Message.ShouldContain("run the plain pooling backward");
    }

    // conv, relu, pool twice (LeNet's shape of layers, small), with the weights as graph inputs.
    private static Graph LeNetLike(Func<NDArray, NDArray, NDArray>? second = null)
    {
        using var tracer = new Tracer("lenet");
        var x = tracer.Input("x", new Shape(3, 2, 12, 12), DType.Float32, Device.Cpu);
        var w1 = tracer.Input("w1", new Shape(4, 2, 3, 3), DType.Float32, Device.Cpu);
        var b1 = tracer.Input("b1", new Shape(4), DType.Float32, Device.Cpu);
        var w2 = tracer.Input("w2", new Shape(5, 4, 3, 3), DType.Float32, Device.Cpu);
        var h = Nd.MaxPool2D(Nd.Relu(Nd.Convolution(x, w1, b1)));
        var c2 = Nd.Relu(Nd.Convolution(h, w2, null));
        var p2 = second is null ? Nd.MaxPool2D(c2) : second(c2, h);
        return tracer.Finish([Nd.Sum(p2 * p2)]);
    }

    private static NDArray[] LeNetInputs() =>
    [
        Nd.Array(TestData.Uniform(new Random(1), 3 * 2 * 12 * 12), new Shape(3, 2, 12, 12)),
        Nd.Array(TestData.Uniform(new Random(2), 4 * 2 * 3 * 3), new Shape(4, 2, 3, 3)),
        Nd.Array(TestData.Uniform(new Random(3), 4), new Shape(4)),
        Nd.Array(TestData.Uniform(new Random(4), 5 * 4 * 3 * 3), new Shape(5, 4, 3, 3)),
    ];

    private static IReadOnlyList<IGraphPass> WithoutArgMax() =>
    [
        new EpilogueFusionPass(), new ReluPoolingBackwardPass(),
        new FusionPass(new FusionOptions { ForwardOutputs = 1 }),
    ];

    private static int ArgMaxPools(Graph g) => g.Operators.Count(n => n.Op == PoolingOps.PoolingArgMax);

    [Test]
    public void ThePassRewritesLeNetsPoolingsAndTheirBackwards()
    {
        var training = new TrainingGraph(LeNetLike(),
            optimize: CompilerPipeline.AfterGradient(1, new CompilerOptions()));
        var g = training.Joint;
        ArgMaxPools(g).ShouldBe(2);
        g.Operators.Count(n => n.Op == PoolingOps.PoolingArgMaxBackward).ShouldBe(2);
        g.Operators.Count(n => n.Op == PoolingOps.Pooling || n.Op == PoolingOps.PoolingBackward).ShouldBe(0);
        // Both pooled inputs are relu outputs: both forwards mark masked windows, and no backward reads x.
        g.Operators.Where(n => n.Op == PoolingOps.PoolingArgMax)
            .ShouldAllBe(n => ((PoolingAttrs)n.Attrs!).ReluMask);
        foreach (var b in g.Operators.Where(n => n.Op == PoolingOps.PoolingArgMaxBackward))
        {
            b.Inputs[0].Node.Op.ShouldBe(PoolingOps.PoolingArgMax);
            b.Inputs[0].Index.ShouldBe(1);
            b.Inputs[0].Type.DType.ShouldBe(DType.UInt8);
        }
        // The pooled inputs die after the forward: the plan is smaller than without the pass.
        var plain = new TrainingGraph(LeNetLike(), optimize: WithoutArgMax());
        training.Plan.PlannedBytes.ShouldBeLessThan(plain.Plan.PlannedBytes);
        training.Plan.Verify();
    }

    [Test]
    public void ThePassLeavesPoolingsItMustNotTouch()
    {
        var pipeline = CompilerPipeline.AfterGradient(1, new CompilerOptions());
        // Average pooling: no arg-max.
        var avg = new TrainingGraph(LeNetLike((c, _) => Nd.AvgPool2D(c)), optimize: pipeline).Joint;
        ArgMaxPools(avg).ShouldBe(1);
        // The pooled input is read again (here by an average pooling): it stays alive, so the plain backward stays.
        var shared = new TrainingGraph(LeNetLike((c, _) => Nd.MaxPool2D(c) + Nd.AvgPool2D(c)),
            optimize: pipeline).Joint;
        ArgMaxPools(shared).ShouldBe(1);
        // A window of more than 255 elements (a global max pool over 16 x 16) does not fit a byte.
        using (var tracer = new Tracer("global"))
        {
            var x = tracer.Input("x", new Shape(2, 3, 16, 16), DType.Float32, Device.Cpu);
            var g = new TrainingGraph(tracer.Finish([Nd.Sum(Nd.GlobalMaxPool2D(Nd.Relu(x)))]), optimize: pipeline);
            ArgMaxPools(g.Joint).ShouldBe(0);
            g.Joint.Operators.Count(n => n.Op == PoolingOps.PoolingBackward).ShouldBe(1);
        }
        // Inference graphs have no pooling backward.
        CompilerPipeline.Inference(LeNetLike(), new CompilerOptions()).Operators.Count(n =>
            n.Op == PoolingOps.PoolingArgMax).ShouldBe(0);
    }

    private static float[][] Gradients(TrainingGraph training)
    {
        var inputs = LeNetInputs();
        foreach (var i in inputs) i.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = training.Record(inputs, _ => throw new InvalidOperationException())[0];
        y.Backward();
        var grads = inputs.Select(i => i.Grad!.ToArray()).ToArray();
        y.Dispose();
        foreach (var i in inputs) i.Dispose();
        return grads;
    }

    [Test]
    public void TheGradientIsBitForBitTheOneWithoutThePassAndAutogradsOne()
    {
        var with = Gradients(new TrainingGraph(LeNetLike(),
            optimize: CompilerPipeline.AfterGradient(1, new CompilerOptions())));
        var without = Gradients(new TrainingGraph(LeNetLike(), optimize: WithoutArgMax()));
        var inputs = LeNetInputs();
        foreach (var i in inputs) i.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record())
        {
            var h = Nd.MaxPool2D(Nd.Relu(Nd.Convolution(inputs[0], inputs[1], inputs[2])));
            var p2 = Nd.MaxPool2D(Nd.Relu(Nd.Convolution(h, inputs[3], null)));
            y = Nd.Sum(p2 * p2);
        }
        y.Backward();
        for (int k = 0; k < with.Length; k++)
        {
            SameBits(with[k], without[k], $"gradient {k} against the graph without the pass");
            SameBits(with[k], inputs[k].Grad!.ToArray(), $"gradient {k} against autograd");
        }
        with.ShouldAllBe(g => g.Any(v => v != 0));
        y.Dispose();
        foreach (var i in inputs) i.Dispose();
    }
}
