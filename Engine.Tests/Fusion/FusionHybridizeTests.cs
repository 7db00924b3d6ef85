using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Gluon.Optimizers;
using Engine.Gluon.Vision;
using Engine.Graphs;
using Engine.Kernels.Fusion;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Fusion;

/// <summary>
/// Hybridized blocks with fusion on (the default) against the same blocks run imperatively: inference calls
/// (which fold BatchNorm and fuse epilogues), recorded training calls (forward and backward fused), both CPU
/// designs, the BatchNorm fold's invalidation after a Trainer step, and what Explain prints.
/// </summary>
public class FusionHybridizeTests
{
    private static readonly Tolerance Close = new(2e-5, 2e-6);

    private static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    /// <summary>Elementwise-heavy: swish and a tanh-approximated gelu around a Dense.</summary>
    private sealed class Smooth : HybridBlock
    {
        private readonly Dense dense = new(6);

        public override NDArray Forward(NDArray x)
        {
            var swish = x * Nd.Sigmoid(x);
            var h = dense.Call(swish);
            var gelu = h * 0.5 * (Nd.Tanh((h + h * h * h * 0.044715) * 0.7978845608) + 1);
            return Nd.Relu(gelu) - Nd.Square(h) * 0.1;
        }
    }

    /// <summary>Reductions that end groups: a mean over features and a sum over the batch (a bias-gradient shape).
    /// </summary>
    private sealed class Pooled : HybridBlock
    {
        private readonly Dense dense = new(6);

        public override NDArray Forward(NDArray x)
        {
            var h = dense.Call(x);
            var y = Nd.Relu(h * 0.5 + 1);
            var m = Nd.Mean(y * h, [1], keepDims: true);
            return y - m + Nd.Sum(h * h, [0], keepDims: true);
        }
    }

    private static HybridSequential PooledNet()
    {
        var net = new HybridSequential();
        net.Add(new Pooled());
        return net;
    }

    private static HybridSequential Mlp()
    {
        var net = new HybridSequential();
        net.Add(new Dense(16, activation: "relu"), new Dense(8, activation: "tanh"), new Dense(4));
        return net;
    }

    private static HybridSequential LeNet()
    {
        var net = new HybridSequential();
        net.Add(new Conv2D(6, 5, activation: "relu"), new MaxPool2D(2), new Conv2D(16, 5, activation: "relu"),
            new MaxPool2D(2), new Flatten(), new Dense(32, activation: "relu"), new Dense(10));
        return net;
    }

    private static HybridSequential ResNetBlock()
    {
        var net = new HybridSequential();
        net.Add(new Conv2D(8, 3, padding: 1, useBias: false), new BatchNorm(), new Activation("relu"),
            new BasicBlockV1(8, 1, inChannels: 8), new GlobalAvgPool2D(), new Dense(10));
        return net;
    }

    /// <summary>A relu folded into a 3-D convolution: the 3-D kernels apply epilogues too.</summary>
    private static HybridSequential Volumetric()
    {
        var net = new HybridSequential();
        net.Add(new Conv3D(4, 3, padding: 1, activation: "relu"), new Flatten(), new Dense(5));
        return net;
    }

    private static HybridSequential SmoothNet()
    {
        var net = new HybridSequential();
        net.Add(new Smooth());
        return net;
    }

    public static IEnumerable<TestCaseData> Models() =>
    [
        new TestCaseData((Func<HybridSequential>)Mlp, new[] { 3, 12 }).SetArgDisplayNames("mlp"),
        new TestCaseData((Func<HybridSequential>)LeNet, new[] { 2, 1, 28, 28 }).SetArgDisplayNames("lenet"),
        new TestCaseData((Func<HybridSequential>)ResNetBlock, new[] { 2, 3, 10, 10 }).SetArgDisplayNames("resnet"),
        new TestCaseData((Func<HybridSequential>)SmoothNet, new[] { 4, 5 }).SetArgDisplayNames("smooth"),
        new TestCaseData((Func<HybridSequential>)Volumetric, new[] { 2, 2, 4, 4, 4 }).SetArgDisplayNames("conv3d"),
        new TestCaseData((Func<HybridSequential>)PooledNet, new[] { 5, 7 }).SetArgDisplayNames("pooled"),
    ];

    /// <summary>Two nets with the same parameter values (the second hybridized with <paramref name="options"/>).
    /// BatchNorm's running statistics are moved off their initial values by one training-mode call.</summary>
    private static (HybridSequential Imperative, HybridSequential Hybrid) Pair(Func<HybridSequential> make,
        int[] shape, HybridizeOptions options)
    {
        RandomState.Seed(1);
        var imperative = make();
        imperative.Initialize();
        var hybrid = make();
        hybrid.Initialize();
        using (var x0 = Input(3, shape))
        {
            using (Engine.Autograd.Pause()) imperative.Call(x0).Dispose();
            using (Engine.Autograd.Pause(trainMode: true)) imperative.Call(x0).Dispose();
            using (Engine.Autograd.Pause()) hybrid.Call(x0).Dispose();
        }
        var source = imperative.CollectParams().Values.ToList();
        var target = hybrid.CollectParams().Values.ToList();
        for (int i = 0; i < source.Count; i++) target[i].SetData(source[i].Data());
        hybrid.Hybridize(true, options);
        return (imperative, hybrid);
    }

    [TestCaseSource(nameof(Models))]
    public void InferenceAgreesWithImperativeInBothDesigns(Func<HybridSequential> make, int[] shape)
    {
        foreach (var design in new[] { FusionDesign.GenericStruct, FusionDesign.ChunkedInterpreter })
        {
            var (imperative, hybrid) = Pair(make, shape, new HybridizeOptions { FusionDesign = design });
            using var x = Input(7, shape);
            using var expected = imperative.Call(x);
            using var actual = hybrid.Call(x);
            TensorAssert.AllClose(actual.ToArray(), expected.ToArray(), Close, $"inference {design}");
            hybrid.CompiledGraph!.Operators.Count().ShouldBeLessThan(hybrid.CachedGraph!.Operators.Count(),
                "fusion removes kernels");
        }
    }

    [TestCaseSource(nameof(Models))]
    public void TrainingAgreesWithImperative(Func<HybridSequential> make, int[] shape)
    {
        var (imperative, hybrid) = Pair(make, shape, new HybridizeOptions());
        foreach (bool train in new[] { true, false })
        {
            var results = new List<(float[] Y, float[] Dx, Dictionary<string, float[]> Grads)>();
            foreach (var net in new[] { imperative, hybrid })
            {
                using var x = Input(11, shape);
                x.AttachGrad();
                NDArray y, loss;
                using (Engine.Autograd.Record(train))
                {
                    y = net.Call(x);
                    loss = Nd.Sum(y * y);
                }
                loss.Backward();
                results.Add((y.ToArray(), x.Grad!.ToArray(),
                    net.CollectParams().Values.Where(p => p.GradReq != GradReq.Null)
                        .ToDictionary(p => p.Name, p => p.Grad().ToArray())));
                y.Dispose();
                loss.Dispose();
            }
            TensorAssert.AllClose(results[1].Y, results[0].Y, Close, $"output (train {train})");
            TensorAssert.AllClose(results[1].Dx, results[0].Dx, Close, $"input gradient (train {train})");
            foreach (var ((name, g), (_, h)) in results[0].Grads.Zip(results[1].Grads))
                TensorAssert.AllClose(h, g, new Tolerance(1e-4, 1e-5), $"grad {name} (train {train})");
        }
    }

    [Test]
    public void FoldedBatchNormFollowsATrainerStep()
    {
        var (_, net) = Pair(ResNetBlock, [2, 3, 10, 10], new HybridizeOptions());
        var trainer = new Trainer(net.CollectParams(), new SGD(learningRate: 0.5));
        using var x = Input(5, 2, 3, 10, 10);
        var before = net.Call(x).ToArray();
        var folds = net.CompiledGraph!.Parameters.Select(p => p.Binding).OfType<IComputedBinding>().ToList();
        folds.Count.ShouldBe(6, "three batch norms, each a folded weight and bias");
        for (int step = 0; step < 2; step++)
        {
            NDArray loss;
            using (Engine.Autograd.Record()) loss = Nd.Sum(Nd.Square(net.Call(x)));
            loss.Backward();
            trainer.Step(2);
            loss.Dispose();
        }
        var after = net.Call(x).ToArray();
        after.ShouldNotBe(before);
        net.Hybridize(false);
        var expected = net.Call(x).ToArray();
        TensorAssert.AllClose(after, expected, Close, "hybridized inference after the trainer's steps");
    }

    [Test]
    public void FusionCanBeTurnedOff()
    {
        var (_, net) = Pair(Mlp, [3, 12], new HybridizeOptions { Fusion = false });
        using var x = Input(1, 3, 12);
        net.Call(x).Dispose();
        net.CompiledGraph!.Operators.Count().ShouldBe(net.CachedGraph!.Operators.Count());
        net.Explain().ShouldContain("inference: 0 fused groups, 0 epilogues, 0 batch norms folded");
    }

    [Test]
    public void ExplainListsTheFusedGroupsAndEpilogues()
    {
        var (_, net) = Pair(SmoothNet, [4, 5], new HybridizeOptions());
        using var x = Input(1, 4, 5);
        net.Call(x).Dispose();
        string text = net.Explain();
        TestContext.Out.WriteLine(text);
        var lines = text.Split('\n');
        lines[0].ShouldStartWith("hybridsequential");
        lines[0].ShouldContain("kernels per inference call (");
        var inference = Array.FindIndex(lines, l => l.StartsWith("inference: "));
        lines[inference].ShouldBe("inference: 2 fused groups, 0 epilogues, 0 batch norms folded");
        // Block names carry a process-wide counter (smooth0, smooth1, ...), as MXNet's do.
        lines[inference + 1].ShouldMatch(
            @"^  fused_smooth\d+_multiply = \(%0\) \{ %1 = sigmoid\(%0\); %2 = multiply\(%0, %1\) \} -> %2 " +
            @"\[smooth\d+_sigmoid, smooth\d+_multiply\]$");
        lines[inference + 2].ShouldMatch(
            @"^  fused_smooth\d+_fwd = \(%0\) \{ %1 = 0\.5; %2 = 0\.044715; .* %6 = multiply\(%0, %1\); .* -> %18 \[");
        lines.ShouldContain(l => l.StartsWith("training: ") && !l.StartsWith("training: 0 fused"));
    }

    [Test]
    public void ReductionsEndFusedGroupsInInferenceAndTraining()
    {
        var (_, net) = Pair(PooledNet, [5, 7], new HybridizeOptions());
        using var x = Input(1, 5, 7);
        net.Call(x).Dispose();
        var inference = net.CompiledGraph!.Operators.Where(n => n.Op == FusionOps.FusedElementwise)
            .Select(n => ((FusedElementwiseAttrs)n.Attrs!).Program.ToString()).ToList();
        inference.ShouldContain(p => p.Contains("-> mean(") && p.Contains("relu("));
        inference.ShouldContain(p => p.Contains("-> sum(") && p.Contains("axis=(0,), keepdims"));
        inference.ShouldAllBe(p => !p.Contains("full"), "scalars are immediates");
        NDArray y;
        using (Engine.Autograd.Record()) y = net.Call(x);
        y.Backward();
        y.Dispose();
        string text = net.Explain();
        var training = text.Split('\n').SkipWhile(l => !l.StartsWith("training: ")).Skip(1)
            .TakeWhile(l => l.StartsWith("  ")).ToList();
        // The backward of y - m sums over the features, the backward of the batch sum broadcasts.
        training.ShouldContain(l => l.Contains("sum(") && l.Contains("axis=(1,), keepdims"));
    }

    [Test]
    public void AFusedEpilogueRefusesToBeDifferentiated()
    {
        using var x = Input(1, 2, 3);
        using var w = Input(2, 4, 3);
        x.AttachGrad();
        NDArray y;
        var attrs = new FullyConnectedAttrs(4, NoBias: true, Activation: Engine.Kernels.EpilogueActivation.Relu);
        using (Engine.Autograd.Record()) y = LinearAlgebraOps.FullyConnected.Call(attrs, x, w);
        TensorAssert.AllClose(y.ToArray(), Nd.Relu(Nd.Dot(x, w, transposeB: true)).ToArray(), Close, "relu(x W^T)");
        Should.Throw<InvalidOperationException>(() => y.Backward()).Message
            .ShouldContain("fully_connected: a node with a fused relu epilogue has no gradient");
    }
}
