using Engine.Backends;
using Engine.Diagnostics;
using Engine.Kernels;
using Engine.Ops;
using Engine.Tests.Autograd;
using Engine.Tests.Support;

namespace Engine.Tests.Core;

/// <summary>
/// Keeps every operator's declarations honest: kernels on every built backend, a forward case per operator, shape
/// rules that match what the kernels write, in-place pairs that really work in place, elementwise math that is
/// what the kernels compute, and the effects (mutated inputs, saved values, scratch, write requests) that eager
/// execution and autograd act on.
/// </summary>
public class OperatorContractTests
{
    private static NDArray Rand(Random rng, double low, double high, params int[] shape) =>
        Nd.Array(TestData.UniformDouble(rng, new Shape(shape).Size, low, high), new Shape(shape));

    /// <summary>The gradient table plus a case for every operator it does not differentiate.</summary>
    public static IEnumerable<GradientCase> ForwardCases()
    {
        foreach (var c in GradientCheckTests.Cases()) yield return c;
        foreach (var c in LayerGradientCases.BackwardForwardCases()) yield return c;
        foreach (var op in new[] { "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal" })
            yield return new GradientCase(op, NoAttrs.Instance, r => [Rand(r, -1, 1, 3, 4), Rand(r, -1, 1, 4)]);
        yield return new GradientCase("sign", NoAttrs.Instance, r => [Rand(r, -1, 1, 3, 4)]);
        yield return new GradientCase("argmax", new ArgReduceAttrs(1), r => [Rand(r, -1, 1, 3, 5)]);
        yield return new GradientCase("argmin", new ArgReduceAttrs(0, true), r => [Rand(r, -1, 1, 3, 5)]);
        yield return new GradientCase("cast", new CastAttrs(DType.Float32), r => [Rand(r, -1, 1, 3, 5)]);
        yield return new GradientCase("one_hot", new OneHotAttrs(4, 2, -1, DType.Float64),
            _ => [Nd.Array([0.0, 3, 1, 2, 3], new Shape(5))]);
        yield return new GradientCase("random", new RandomAttrs(Distribution.Normal, 0, 1, [3, 4], DType.Float64),
            _ => []);
        yield return new GradientCase("full", new FullAttrs([2, 3], 1.5, DType.Float64), _ => []);
        yield return new GradientCase("dropout", new DropoutAttrs(0.5, Training: true, Seed: 1, Offset: 2),
            r => [Rand(r, -1, 1, 4, 8)]);
        yield return new GradientCase("_backward_batch_norm", new BatchNormAttrs(Training: true),
            r => [Rand(r, -1, 1, 2, 3, 4), Rand(r, -1, 1, 2, 3, 4), Rand(r, 0.5, 1, 3), Rand(r, -1, 1, 3),
                Rand(r, 0.5, 1, 3)]);
        yield return new GradientCase("_backward_softmax_cross_entropy", NoAttrs.Instance,
            r => [Rand(r, -1, 1, 3, 4), Nd.Array([0.0, 3, 1], new Shape(3)), Rand(r, -1, 1, 3)]);
        yield return new GradientCase("_backward_ctc_loss", new CtcAttrs(Blank: CtcBlank.Last),
            r => [Rand(r, -1, 1, 4, 2, 3), Nd.Array([0.0, 1, 1, -1], new Shape(2, 2)), Rand(r, -1, 1, 2)]);
        var conv = new ConvolutionAttrs([1, 1], [1, 1], [1, 1], NoBias: true);
        yield return new GradientCase("_backward_convolution_data", new ConvolutionBackwardAttrs(conv, [2, 3, 5, 5]),
            r => [Rand(r, -1, 1, 2, 4, 5, 5), Rand(r, -1, 1, 4, 3, 3, 3)]);
        yield return new GradientCase("_backward_convolution_weight",
            new ConvolutionBackwardAttrs(conv, [4, 3, 3, 3]),
            r => [Rand(r, -1, 1, 2, 3, 5, 5), Rand(r, -1, 1, 2, 4, 5, 5)]);
        yield return new GradientCase("_backward_pad", new PadAttrs(PadMode.Constant, [0, 1, 2], [0, 2, 1]),
            r => [Rand(r, -1, 1, 2, 6, 7)]);
        var pool = new PoolingAttrs(PoolingMode.Max, [2, 2], [2, 2], [0, 0]);
        yield return new GradientCase("_backward_pooling", pool,
            r =>
            {
                var x = Rand(r, -1, 1, 1, 2, 4, 4);
                return [x, PoolingOps.Pooling.Call(pool, x), Rand(r, -1, 1, 1, 2, 2, 2)];
            });
        // With the relu's backward folded in (ReluPoolingBackwardPass): x is a relu's output, zeros included.
        yield return new GradientCase("_backward_pooling", pool with { ReluMask = true },
            r =>
            {
                var x = Nd.Relu(Rand(r, -1, 1, 1, 2, 4, 4));
                return [x, PoolingOps.Pooling.Call(pool, x), Rand(r, -1, 1, 1, 2, 2, 2)];
            }, Label: "relu_mask");
        // With the arg-max kept by the forward (PoolingArgMaxPass): a byte per window, the relu mask's zeros as 255.
        yield return new GradientCase("_pooling_argmax", pool with { ReluMask = true },
            r => [Nd.Relu(Rand(r, -1, 1, 2, 3, 6, 7))], Label: "relu_mask");
        var overlapping = new PoolingAttrs(PoolingMode.Max, [3, 3], [2, 2], [1, 1],
            Convention: PoolingConvention.Full);
        yield return new GradientCase("_pooling_argmax", overlapping, r => [Rand(r, -1, 1, 1, 2, 7, 6)],
            Label: "3x3 s2 p1 full");
        yield return new GradientCase("_backward_pooling_argmax",
            new PoolingArgMaxBackwardAttrs(overlapping, [1, 2, 7, 6]),
            r =>
            {
                var argMax = PoolingOps.PoolingArgMax.Invoke(overlapping, Rand(r, -1, 1, 1, 2, 7, 6))[1];
                return [argMax, Rand(r, -1, 1, argMax.Shape.ToArray())];
            });
        yield return new GradientCase("_backward_take", new TakeBackwardAttrs(new TakeAttrs(0, TakeMode.Clip), [4, 3]),
            r => [Rand(r, -1, 1, 2, 3), Nd.Array([1.0, 3], new Shape(2))]);
        var program = new Engine.Kernels.Fusion.FusedProgram(DType.Float64, 2,
        [
            new("multiply", ElementwiseOps.Multiply.Math!.Operator(NoAttrs.Instance, DType.Float64), 0, 1),
            new("exp", ElementwiseOps.Exp.Math!.Operator(NoAttrs.Instance, DType.Float64), 2),
        ], [2, 3]);
        yield return new GradientCase("_fused_elementwise", new FusedElementwiseAttrs(program, "mul, exp"),
            r => [Rand(r, -1, 1, 3, 4), Rand(r, -1, 1, 4)]);
        yield return RecurrentGradientCases.BackwardCase();
        yield return new GradientCase("sgd_update", new SgdUpdateAttrs(0.1, 0.01),
            r => [Rand(r, -1, 1, 3, 4).AsType(DType.Float32), Rand(r, -1, 1, 3, 4).AsType(DType.Float32)]);
        yield return new GradientCase("sgd_mom_update", new SgdUpdateAttrs(0.1, Momentum: 0.9),
            r => [Rand(r, -1, 1, 5).AsType(DType.Float32), Rand(r, -1, 1, 5).AsType(DType.Float32),
                Rand(r, -1, 1, 5).AsType(DType.Float32)]);
        yield return new GradientCase("adam_update", new AdamUpdateAttrs(0.01),
            r => [Rand(r, -1, 1, 5).AsType(DType.Float32), Rand(r, -1, 1, 5).AsType(DType.Float32),
                Rand(r, -1, 1, 5).AsType(DType.Float32), Rand(r, 0, 1, 5).AsType(DType.Float32)]);
    }

    [Test]
    public void EveryOperatorHasAKernelOnEveryBuiltBackend()
    {
        BackendRegistry.All.ShouldNotBeEmpty();
        foreach (var backend in BackendRegistry.All)
        {
            var missing = OpRegistry.All.Values
                .Where(op => backend.DeviceKinds.Any(kind => !op.DeviceKinds.Contains(kind)))
                .Select(op => op.Name).Order().ToList();
            missing.ShouldBeEmpty($"operators without a kernel on the {backend} backend");
        }
    }

    [Test]
    public void EveryOperatorHasAForwardCase()
    {
        var covered = ForwardCases().Select(c => c.Op).ToHashSet();
        var missing = OpRegistry.All.Keys.Where(name => !covered.Contains(name)).Order().ToList();
        missing.ShouldBeEmpty($"operators without a forward case in the contract table: {string.Join(", ", missing)}");
    }

    /// <summary>
    /// The outputs are pre-filled with a sentinel and handed to the kernel: every element the shape rule promises
    /// must be written (a rule larger than what the kernel produces leaves sentinels), and the result equals the
    /// one computed into fresh arrays.
    /// </summary>
    [TestCaseSource(nameof(ForwardCases))]
    public void ShapeRuleMatchesWhatTheKernelWrites(GradientCase c)
    {
        using var scope = NDArray.Scope();
        var op = OpRegistry.Get(c.Op);
        var inputs = c.Inputs(new Random(7));
        var types = op.InferTypes(c.Attrs, inputs.Select(x => new TensorType(x.Shape, x.DType)).ToArray());
        if (op.IsView || types.Length == 0) Assert.Ignore("a view or an update: no outputs to write");
        const double sentinel = -123456;
        var outputs = types.Select(t => Nd.Full(t.Shape, sentinel, t.DType)).ToArray();
        var again = c.Inputs(new Random(7));
        var fresh = op.Invoke(c.Attrs, again);
        op.InvokeInto(c.Attrs, inputs, outputs);
        for (int k = 0; k < outputs.Length; k++)
        {
            outputs[k].Shape.ShouldBe(fresh[k].Shape);
            var written = outputs[k].ToArray<double>();
            var expected = fresh[k].ToArray<double>();
            for (int e = 0; e < written.Length; e++)
            {
                if (written[e] == sentinel && expected[e] != sentinel)
                    Assert.Fail($"{c} output {k}: element {e} of {outputs[k].Shape} was never written");
            }
            if (op.Name is not ("random" or "dropout"))
                TensorAssert.AllClose(written, expected, Tolerances.Float64, $"{c} output {k}");
        }
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void InPlacePairsGiveTheOutOfPlaceResult(GradientCase c)
    {
        using var scope = NDArray.Scope();
        var op = OpRegistry.Get(c.Op);
        if (op.InPlace.Count == 0) Assert.Ignore("no in-place pairs");
        var expected = op.Invoke(c.Attrs, c.Inputs(new Random(3)));
        foreach (var (i, o) in op.InPlace)
        {
            var inputs = c.Inputs(new Random(3));
            if (inputs[i].Shape != expected[o].Shape || inputs[i].DType != expected[o].DType) continue;
            var target = inputs[i];
            using (OpProfiler.Start(byShape: false))
            {
                var outs = expected.Select((e, k) => k == o ? target : Nd.Empty(e.Shape, e.DType)).ToArray();
                var result = op.InvokeInto(c.Attrs, inputs, outs);
                result[o].ShouldBeSameAs(target);
                // In place means one kernel call and no copy through a temporary.
                OpProfiler.Results.Select(r => r.Op).ShouldBe([op.Name]);
            }
            TensorAssert.AllClose(target.ToArray<double>(), expected[o].ToArray<double>(), Tolerances.Float64,
                $"{c} with output {o} written over input {i}");
        }
    }

    /// <summary>An elementwise op's Math, evaluated per element in float64, is what its kernels compute.</summary>
    [TestCaseSource(nameof(ForwardCases))]
    public void ElementwiseMathIsWhatTheKernelsCompute(GradientCase c)
    {
        using var scope = NDArray.Scope();
        var op = OpRegistry.Get(c.Op);
        var math = op.Math;
        if (math is null)
        {
            Assert.Ignore("not an elementwise operator");
            return;
        }
        op.Fusion.ShouldBeOneOf(FusionClass.Elementwise, FusionClass.Broadcast);
        var inputs = c.Inputs(new Random(5));
        var y = op.Invoke(c.Attrs, inputs)[0];
        var broadcast = inputs.Select(x => Nd.BroadcastTo(x, y.Shape).ToArray<double>()).ToArray();
        var actual = y.ToArray<double>();
        var args = new double[math.Arity];
        for (int e = 0; e < actual.Length; e++)
        {
            for (int k = 0; k < args.Length; k++) args[k] = broadcast[k][e];
            double expected = math.Evaluate(c.Attrs, args);
            actual[e].ShouldBe(expected, Math.Abs(expected) * 1e-15 + 1e-300, $"{c} element {e}");
        }
        math.OperatorType(DType.Float64).IsValueType.ShouldBeTrue();
    }

    [Test]
    public void ElementwiseAndBroadcastOperatorsDeclareTheirMath()
    {
        // cast changes the element type, which a fused program does as a conversion on load, not as an operator.
        OpRegistry.All.Values.Where(op => op.Fusion is FusionClass.Elementwise or FusionClass.Broadcast &&
                op.Math is null && op.Name != "cast")
            .Select(op => op.Name).ShouldBeEmpty();
    }

    [Test]
    public void AttributesCompareAndHashByValue()
    {
        var a = new PoolingAttrs(PoolingMode.Max, [2, 2], [2, 2], [0, 0]);
        var b = new PoolingAttrs(PoolingMode.Max, new[] { 2, 2 }, [2, 2], [0, 0]);
        a.ShouldBe(b);
        a.GetHashCode().ShouldBe(b.GetHashCode());
        (a with { Pad = [1, 0] }).ShouldNotBe(b);
        new ConvolutionAttrs([1, 1], [0, 0], [1, 1]).GetHashCode()
            .ShouldNotBe(new ConvolutionAttrs([1, 1], [1, 1], [1, 1]).GetHashCode());
        var source = new[] { 3, 4 };
        var dims = new BroadcastToAttrs(source);
        source[0] = 99;
        dims.Shape[0].ShouldBe(3, "Dims copies the array it is made from");
    }

    [Test]
    public void TheTapeKeepsOnlyTheValuesAnOperatorSaves()
    {
        using var a = Nd.Array(new float[] { 1, 2, 3 });
        using var b = Nd.Array(new float[] { 4, 5, 6 });
        a.AttachGrad();
        b.AttachGrad();
        NDArray sum, product;
        using (Engine.Autograd.Record())
        {
            sum = a + b;
            product = a * b;
        }
        var add = sum.Node!.Producer!;
        add.Inputs.ShouldAllBe(x => !x.HasData);
        add.Outputs.ShouldAllBe(x => !x.HasData);
        var mul = product.Node!.Producer!;
        mul.Inputs.ShouldAllBe(x => x.HasData);
        Engine.Autograd.Backward([sum, product]);
        a.Grad!.ToArray().ShouldBe([5f, 6, 7]);
        sum.Dispose();
        product.Dispose();
    }

    private static readonly OpDef<NoAttrs> ForgetfulSquare = new("_test_forgetful_square", 1, 1, ShapeRules.Same,
        FusionClass.Elementwise, static (_, i, _, g, _) => [g[0] * i[0] * 2])
    {
        Saves = SavedValues.Nothing,
    };

    [Test]
    public void AGradientThatReadsAnUnsavedValueFailsAndSaysWhy()
    {
        var square = ElementwiseOps.Square;
        using var x = Nd.Array(new float[] { 1, 2 });
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = square.Call(NoAttrs.Instance, x);
        // Re-record the same call under an op whose rule reads x but declares nothing saved.
        var entry = y.Node!.Producer!;
        var forged = new TapeEntry(ForgetfulSquare, NoAttrs.Instance, entry.InputNodes,
            [NDArray.ShapeOnly(x.Shape, x.DType, x.Device, "_test_forgetful_square: input 0 is not kept")],
            [entry.Outputs[0]], [0]);
        y.Node = AutogradNode.Output(forged, 0);
        var error = Should.Throw<InvalidOperationException>(() => y.Backward());
        error.Message.ShouldContain("not kept");
        y.Dispose();
    }

    [Test]
    public void BatchNormDeclaresTheRunningStatisticsItWrites()
    {
        NormalizationOps.BatchNorm.Mutates.ShouldBe([3, 4]);
        var rng = new Random(2);
        using var x = Rand(rng, -1, 1, 4, 3);
        using var gamma = Nd.Ones(new Shape(3), DType.Float64);
        using var beta = Nd.Zeros(new Shape(3), DType.Float64);
        using var mean = Nd.Zeros(new Shape(3), DType.Float64);
        using var variance = Nd.Ones(new Shape(3), DType.Float64);
        mean.AttachGrad();
        NDArray used;
        using (Engine.Autograd.Record())
        {
            used = mean * 2;
            NormalizationOps.BatchNorm.Invoke(new BatchNormAttrs(Axis: 1, Training: true), x, gamma, beta, mean,
                variance);
        }
        // The running mean was read by the graph and then updated in place: its gradient would be stale.
        Should.Throw<InvalidOperationException>(() => used.Backward()).Message.ShouldContain("modified in place");
        used.Dispose();
    }

    [Test]
    public void AMutatedInputMustBeDense()
    {
        using var w = Nd.Zeros(new Shape(4, 2));
        using var column = w.SliceAxis(1, 0, 1);
        using var g = Nd.Ones(new Shape(4, 1));
        Should.Throw<ArgumentException>(() => OptimizerOps.SgdUpdate.Invoke(new SgdUpdateAttrs(0.1), column, g))
            .Message.ShouldContain("contiguous");
    }

    [Test]
    public void GradReqAddAccumulatesInPlace()
    {
        using var w = Nd.Array(new float[] { 1, 2, 3 });
        w.AttachGrad(GradReq.Add);
        var buffer = w.Grad!.Storage.Buffer;
        for (int step = 0; step < 2; step++)
        {
            NDArray loss;
            using (Engine.Autograd.Record()) loss = Nd.Sum(w * w);
            using (OpProfiler.Start(byShape: true))
            {
                loss.Backward();
                // The accumulation is one add written over Grad: no sum array, no copy back.
                OpProfiler.Results.Where(r => r.Op.StartsWith("copy", StringComparison.Ordinal)).ShouldBeEmpty();
            }
            loss.Dispose();
        }
        w.Grad!.Storage.Buffer.ShouldBeSameAs(buffer);
        w.Grad!.ToArray().ShouldBe([4f, 8, 12]);
    }

    [Test]
    public void OutWithAddToAddsIntoTheGivenArray()
    {
        using var a = Nd.Array(new float[] { 1, 2 });
        using var b = Nd.Array(new float[] { 10, 20 });
        using var target = Nd.Array(new float[] { 100, 200 });
        ElementwiseOps.Multiply.InvokeInto(NoAttrs.Instance, [a, b], [target], WriteRequest.AddTo);
        target.ToArray().ShouldBe([110f, 240]);
        using var wide = Nd.Zeros(new Shape(2, 2));
        using var column = wide.SliceAxis(1, 1, 2);
        using var a2 = a.Reshape(2, 1);
        using var b2 = b.Reshape(2, 1);
        ElementwiseOps.Add.InvokeInto(NoAttrs.Instance, [a2, b2], [column]);
        wide.ToArray().ShouldBe([0f, 11, 0, 22]);
        Should.Throw<ArgumentException>(() => ElementwiseOps.Add.InvokeInto(NoAttrs.Instance, [a, b], [wide]))
            .Message.ShouldContain("output 0 must be");
    }

    [Test]
    public void FillAndAssignWriteThroughOperatorsAndBumpVersions()
    {
        using var x = Nd.Zeros(new Shape(3, 4));
        int before = x.Storage.Version;
        using (OpProfiler.Start())
        {
            x.Fill(2);
            using var view = x.SliceAxis(1, 1, 3);
            view.Fill(5);
            using var row = Nd.Array(new float[] { 7, 8 });
            view.Assign(row);
            OpProfiler.Results.Select(r => r.Op).Order().ShouldBe(["copy", "full"]);
        }
        x.Storage.Version.ShouldBe(before + 3);
        x.ToArray().ShouldBe([2f, 7, 8, 2, 2, 7, 8, 2, 2, 7, 8, 2]);
    }

    [Test]
    public void DropoutIsAPureFunctionOfItsAttributes()
    {
        using var x = Nd.Ones(new Shape(64));
        var attrs = new DropoutAttrs(0.5, Training: true, Seed: 9, Offset: 100);
        var first = RandomOps.Dropout.Invoke(attrs, x);
        var second = RandomOps.Dropout.Invoke(attrs, x);
        first[0].ToArray().ShouldBe(second[0].ToArray());
        var off = RandomOps.Dropout.Invoke(attrs with { Training = false }, x);
        off[0].ToArray().ShouldAllBe(v => v == 1f);
        foreach (var a in first.Concat(second).Concat(off)) a.Dispose();
    }

    [Test]
    public void AKernelThatTakesMoreScratchThanDeclaredIsCaught()
    {
        // cast declares none beyond dense copies of its input; a kernel asking for more must fail loudly.
        var greedy = new OpDef<NoAttrs>("_test_greedy", 1, 1, ShapeRules.Same) { Scratch = static (_, _) => 16 };
        greedy.Register(DeviceKind.Cpu, static (_, c, i, o) =>
        {
            c.Scratch(1024);
            c.Runtime.Copy(i[0], o[0]);
        });
        using var x = Nd.Array(new float[] { 1, 2 });
        Should.Throw<InvalidOperationException>(() => greedy.Call(NoAttrs.Instance, x)).Message
            .ShouldContain("declares at most 16");
    }
}

[Category("Conformance")]
public class DeviceFixtureTests(Device device) : DeviceFixture(device)
{
    [Test]
    public void ArraysGoToTheFixturesDevice()
    {
        DefaultDevice.Current.ShouldBe(Device);
        using var x = Nd.Ones(new Shape(2, 3));
        x.Device.ShouldBe(Device);
        using var y = Nd.Relu(x) + 1;
        y.ToArray().ShouldAllBe(v => v == 2f);
    }
}
