using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.Graphs.Passes;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Fusion;

/// <summary>The fusion pass on small graphs: which groups form (printed as golden text) and what stays apart.</summary>
public class FusionPassTests
{
    private static Graph Fuse(Graph graph, FusionOptions? options = null) =>
        new PassPipeline(new FusionPass(options)).Run(graph);

    [Test]
    public void AChainWithBroadcastAndAScalarBecomesOneProgram()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(2, 3), DType.Float32, Device.Cpu);
        var b = tracer.Input("b", new Shape(3), DType.Float32, Device.Cpu);
        var y = Nd.Tanh(Nd.Exp(x * b) + 1) - x;
        var graph = Fuse(tracer.Finish([y]));
        graph.ToString().ShouldBe(
            "%x = input : float32(2, 3)\n" +
            "%b = input : float32(3,)\n" +
            "%fused_subtract = _fused_elementwise[program=(%0, %1) { %2 = 1.0; %3 = multiply(%0, %1); " +
            "%4 = exp(%3); %5 = add(%4, %2); %6 = tanh(%5); %7 = subtract(%6, %0) } -> %7](%x, %b) : float32(2, 3)\n" +
            "return %fused_subtract");
    }

    [Test]
    public void ValuesReadOutsideTheGroupStayMaterialised()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(4), DType.Float32, Device.Cpu);
        var e = Nd.Exp(x);
        var s = Nd.Sqrt(e);           // read by the dot below: an output of the program
        var d = Nd.Dot(s.Reshape(1, 4), s.Reshape(4, 1));
        var y = Nd.Square(s) * e;
        var graph = Fuse(tracer.Finish([y, d]));
        var fused = graph.Operators.Single(n => n.Op == FusionOps.FusedElementwise);
        ((FusedElementwiseAttrs)fused.Attrs!).Program.ToString().ShouldBe(
            "(%0) { %1 = exp(%0); %2 = sqrt(%1); %3 = square(%2); %4 = multiply(%3, %1) } -> %2, %4");
        fused.NumOutputs.ShouldBe(2);
    }

    [Test]
    public void GroupsThatWouldFormACycleStayApart()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(2, 3), DType.Float32, Device.Cpu);
        var a = Nd.Exp(x) + x;
        var s = Nd.Sum(a, [1], keepDims: true);   // reads the first group
        var y = Nd.Relu(a * s) - x;               // reads the group and the sum: cannot join the first group
        var graph = Fuse(tracer.Finish([y]));
        var programs = graph.Operators.Where(n => n.Op == FusionOps.FusedElementwise)
            .Select(n => ((FusedElementwiseAttrs)n.Attrs!).Program.ToString()).ToList();
        // The sum ends the first group (which still writes a: the second group reads it).
        programs.ShouldBe([
            "(%0) { %1 = exp(%0); %2 = add(%1, %0) } -> sum(%2, axis=(1,), keepdims), %2",
            "(%0, %1, %2) { %3 = multiply(%0, %1); %4 = relu(%3); %5 = subtract(%4, %2) } -> %5",
        ]);
        graph.Verify();
    }

    [Test]
    public void AReductionEndsTheGroupWithoutStoringWhatItReduces()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(4, 6), DType.Float32, Device.Cpu);
        var b = tracer.Input("b", new Shape(6), DType.Float32, Device.Cpu);
        var c = tracer.Input("c", new Shape(4, 6), DType.Float32, Device.Cpu);
        var y = Nd.Mean(x * b + c, [-1]);
        var graph = Fuse(tracer.Finish([y]));
        graph.ToString().ShouldBe(
            "%x = input : float32(4, 6)\n" +
            "%b = input : float32(6,)\n" +
            "%c = input : float32(4, 6)\n" +
            "%fused_mean = _fused_elementwise[program=(%0, %1, %2) { %3 = multiply(%0, %1); %4 = add(%3, %2) } -> " +
            "mean(%4, axis=(1,))](%x, %b, %c) : float32(4,)\n" +
            "return %fused_mean");
    }

    [Test]
    public void AReductionAloneOrAfterAnotherReductionIsNotFused()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(4, 6), DType.Float32, Device.Cpu);
        var s = Nd.Sum(Nd.Sum(Nd.Exp(x), [1]));  // the second sum reads the first: it stays a sum of its own
        var m = Nd.Max(x * x, [0]);               // max is not fused: x * x stays a single operator
        var graph = Fuse(tracer.Finish([s, m]));
        graph.Operators.Select(n => n.Op!.Name).ShouldBe(["_fused_elementwise", "sum", "multiply", "max"],
            ignoreOrder: true);
        var programs = graph.Operators.Where(n => n.Op == FusionOps.FusedElementwise)
            .Select(n => ((FusedElementwiseAttrs)n.Attrs!).Program.ToString()).ToList();
        programs.ShouldBe(["(%0) { %1 = exp(%0) } -> sum(%1, axis=(1,))"]);
    }

    [Test]
    public void AScalarConstantIsFoldedEvenIntoASingleOperator()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(3), DType.Float64, Device.Cpu);
        var ones = Nd.Ones(new Shape(2, 3), DType.Float64);   // carries the shape: stays an input
        var graph = Fuse(tracer.Finish([x * 2, ones * x]));
        graph.ToString().ShouldBe(
            "%x = input : float64(3,)\n" +
            "%fused_multiply = _fused_elementwise[program=(%0) { %1 = 2.0; %2 = multiply(%0, %1) } -> %2](%x) : " +
            "float64(3,)\n" +
            "%full = full[dtype=float64, shape=(2, 3), value=1.0]() : float64(2, 3)\n" +
            "%multiply0 = multiply(%full, %x) : float64(2, 3)\n" +
            "return %fused_multiply, %multiply0");
    }

    [Test]
    public void DifferentShapesAndDTypesAreNotGrouped()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("x", new Shape(1, 3), DType.Float32, Device.Cpu);
        var m = tracer.Input("m", new Shape(4, 3), DType.Float32, Device.Cpu);
        var i = tracer.Input("i", new Shape(4, 3), DType.Int32, Device.Cpu);
        var small = Nd.Exp(Nd.Exp(x));           // (1, 3): a group of its own
        var big = Nd.Relu(small * m);           // (4, 3)
        var ints = Nd.Abs(Nd.Negative(i));      // int32
        var graph = Fuse(tracer.Finish([big, ints]));
        graph.Operators.Count(n => n.Op == FusionOps.FusedElementwise).ShouldBe(3);
        graph.Operators.Select(n => n.OutputTypes[0].ToString()).ShouldBe(
            ["float32(1, 3)", "float32(4, 3)", "int32(4, 3)"], ignoreOrder: true);
    }

    [Test]
    public void AGroupTakesAtMostEightInputs()
    {
        using var tracer = new Tracer("test");
        var inputs = Enumerable.Range(0, 12)
            .Select(k => tracer.Input($"x{k}", new Shape(5), DType.Float64, Device.Cpu)).ToList();
        var sum = inputs[0];
        for (int k = 1; k < inputs.Count; k++) sum = sum + inputs[k];
        var graph = Fuse(tracer.Finish([sum]));
        var fused = graph.Operators.Where(n => n.Op == FusionOps.FusedElementwise).ToList();
        fused.ShouldAllBe(n => n.Inputs.Count <= 8);
        fused.Count.ShouldBe(2);
    }

    [Test]
    public void TrainingGraphsFuseForwardAndBackwardSeparately()
    {
        Graph forward;
        using (var tracer = new Tracer("test"))
        {
            var x = tracer.Input("x", new Shape(3, 5), DType.Float64, Device.Cpu);
            forward = tracer.Finish([Nd.Tanh(Nd.Sigmoid(x) * x + x)]);
        }
        var training = new TrainingGraph(forward, null,
            optimize: CompilerPipeline.AfterGradient(1, new CompilerOptions()));
        var joint = training.Joint;
        var forwardPart = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>([joint.Outputs[0].Node]);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (forwardPart.Add(n)) foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        var fused = joint.Operators.Where(n => n.Op == FusionOps.FusedElementwise).ToList();
        fused.Count(forwardPart.Contains).ShouldBe(1);
        fused.Count(n => !forwardPart.Contains(n)).ShouldBeGreaterThanOrEqualTo(1);
        // Every backward group reads the head gradient or a backward value, never produces a forward value.
        foreach (var n in fused.Where(n => !forwardPart.Contains(n)))
            n.Inputs.ShouldContain(i => !forwardPart.Contains(i.Node) || i.Node.Kind == NodeKind.Input);

        // The fused training graph gives the gradient autograd gives.
        var xs = Nd.Array(TestData.UniformDouble(new Random(2), 15), new Shape(3, 5));
        xs.AttachGrad();
        NDArray yi;
        using (Engine.Autograd.Record()) yi = Nd.Tanh(Nd.Sigmoid(xs) * xs + xs);
        yi.Backward();
        var expected = xs.Grad!.ToArray<double>();
        var xg = Nd.Array(xs.ToArray<double>(), new Shape(3, 5));
        xg.AttachGrad();
        NDArray yg;
        using (Engine.Autograd.Record()) yg = training.Record([xg], _ => throw new InvalidOperationException())[0];
        TensorAssert.AllClose(yg.ToArray<double>(), yi.ToArray<double>(), Tolerances.Float64, "output");
        yg.Backward();
        TensorAssert.AllClose(xg.Grad!.ToArray<double>(), expected, Tolerances.Float64, "gradient");
    }

    [Test]
    public void TheBiasGradientSumEndsTheBackwardGroup()
    {
        // relu(x + b) with b broadcast over the batch: db = sum over axis 0 of relu's backward.
        Graph forward;
        using (var tracer = new Tracer("test"))
        {
            var x = tracer.Input("x", new Shape(5, 3), DType.Float64, Device.Cpu);
            var b = tracer.Input("b", new Shape(3), DType.Float64, Device.Cpu);
            forward = tracer.Finish([Nd.Relu(x + b) * 3]);
        }
        var training = new TrainingGraph(forward, null,
            optimize: CompilerPipeline.AfterGradient(1, new CompilerOptions()));
        var programs = training.Joint.Operators.Where(n => n.Op == FusionOps.FusedElementwise)
            .Select(n => ((FusedElementwiseAttrs)n.Attrs!).Program).ToList();
        var reducing = programs.Where(p => p.Reduction is not null).ToList();
        reducing.Count.ShouldBe(1);
        reducing[0].ToString().ShouldContain("_backward_relu(");
        reducing[0].ToString().ShouldEndWith("sum(%" + reducing[0].Reduction!.Register + ", axis=(0,), keepdims), %" +
            reducing[0].Outputs.Single());

        var rng = new Random(3);
        var xv = TestData.UniformDouble(rng, 15);
        var bv = TestData.UniformDouble(rng, 3);
        var xs = Nd.Array(xv, new Shape(5, 3));
        var bs = Nd.Array(bv, new Shape(3));
        xs.AttachGrad();
        bs.AttachGrad();
        NDArray yi;
        using (Engine.Autograd.Record()) yi = Nd.Relu(xs + bs) * 3;
        yi.Backward();
        var xg = Nd.Array(xv, new Shape(5, 3));
        var bg = Nd.Array(bv, new Shape(3));
        xg.AttachGrad();
        bg.AttachGrad();
        NDArray yg;
        using (Engine.Autograd.Record())
            yg = training.Record([xg, bg], _ => throw new InvalidOperationException())[0];
        yg.Backward();
        TensorAssert.AllClose(yg.ToArray<double>(), yi.ToArray<double>(), Tolerances.Float64, "output");
        TensorAssert.AllClose(xg.Grad!.ToArray<double>(), xs.Grad!.ToArray<double>(), Tolerances.Float64, "dx");
        TensorAssert.AllClose(bg.Grad!.ToArray<double>(), bs.Grad!.ToArray<double>(), Tolerances.Float64, "db");
    }
}
