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
            "%full = full[dtype=float32, shape=(), value=1.0]() : float32()\n" +
            "%fused_subtract = _fused_elementwise[program=(%0, %1, %2) { %3 = multiply(%0, %1); %4 = exp(%3); " +
            "%5 = add(%4, %2); %6 = tanh(%5); %7 = subtract(%6, %0) } -> %7](%x, %b, %full) : float32(2, 3)\n" +
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
        programs.ShouldBe([
            "(%0) { %1 = exp(%0); %2 = add(%1, %0) } -> %2",
            "(%0, %1, %2) { %3 = multiply(%0, %1); %4 = relu(%3); %5 = subtract(%4, %2) } -> %5",
        ]);
        graph.Verify();
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
}
