using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Graphs;
using Engine.Graphs.Passes;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>The graph passes on small traced graphs: printed results, and gradients against autograd.</summary>
public class GraphPassTests
{
    private static (HybridSequential Net, NDArray X) Traced(params Block[] layers)
    {
        var net = new HybridSequential();
        net.Add(layers);
        net.Initialize();
        net.Hybridize();
        var x = Nd.Array(TestData.Uniform(new Random(4), 2 * 6), new Shape(2, 6));
        net.Call(x).Dispose();
        return (net, x);
    }

    [Test]
    public void CommonSubexpressionsMergeAndDeadCodeGoes()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("data", new Shape(3), DType.Float32, Device.Cpu);
        var a = Nd.Exp(x);
        var b = Nd.Exp(x);
        _ = Nd.Log(x); // dead
        var graph = tracer.Finish([a + b]);
        graph.Operators.Count().ShouldBe(3);
        var optimized = new PassPipeline(new CommonSubexpressionPass(), new DeadCodePass()).Run(graph);
        optimized.ToString().ShouldBe(
            "%data = input : float32(3,)\n" +
            "%exp = exp(%data) : float32(3,)\n" +
            "%add = add(%exp, %exp) : float32(3,)\n" +
            "return %add");
    }

    [Test]
    public void RandomOperatorsAreNeverMerged()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("data", new Shape(8), DType.Float32, Device.Cpu);
        using (Engine.Autograd.TrainMode())
        {
            var graph = tracer.Finish([Nd.Dropout(x, 0.5) + Nd.Dropout(x, 0.5)]);
            new CommonSubexpressionPass().Run(graph).Operators.Count(n => n.Op!.Name == "dropout").ShouldBe(2);
        }
    }

    [Test]
    public void APassThatNeedsWhatNoneProvidesIsRefused()
    {
        var (net, x) = Traced(new Dense(3));
        Should.Throw<InvalidOperationException>(() => new PassPipeline(new GradientPass()).Run(net.CachedGraph!, []))
            .Message.ShouldContain("needs types");
        x.Dispose();
    }

    [Test]
    public void TheGradientGraphGivesAutogradsGradients()
    {
        var (net, x) = Traced(new Dense(5, activation: "relu"), new Dense(4, activation: "tanh"), new Dense(3));
        var forward = net.CachedGraph!;
        var joint = new PassPipeline(new GradientPass(), new CommonSubexpressionPass(), new DeadCodePass())
            .Run(forward);
        joint.Inputs.Select(i => i.Name).ShouldBe(["data", forward.Outputs[0].Node.Name + "_grad"]);
        joint.Outputs.Count.ShouldBe(1 + 1 + forward.Parameters.Count);

        using var headGrad = Nd.Array(TestData.Uniform(new Random(8), 6), new Shape(2, 3));
        var results = new GraphExecutor(joint).Run([x, headGrad],
            n => n.Binding is Parameter p ? p.Data() : throw new InvalidOperationException(n.Name));

        net.Hybridize(false);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = net.Call(x);
        y.Backward(headGrad);
        TensorAssert.AllClose(results[0].ToArray(), y.ToArray(), Tolerances.Exact, "forward output");
        TensorAssert.AllClose(results[1].ToArray(), x.Grad!.ToArray(), new Tolerance(1e-6, 1e-7), "input gradient");
        for (int k = 0; k < forward.Parameters.Count; k++)
        {
            var p = (Parameter)forward.Parameters[k].Binding!;
            TensorAssert.AllClose(results[2 + k].ToArray(), p.Grad().ToArray(), new Tolerance(1e-6, 1e-7), p.Name);
        }
        foreach (var r in results) r.Dispose();
        y.Dispose();
        x.Dispose();
    }
}

public class MemoryPlanTests
{
    [Test]
    public void AChainRunsInPlaceAndNothingIsReadAfterBeingOverwritten()
    {
        using var tracer = new Tracer("test");
        var x = tracer.Input("data", new Shape(1000), DType.Float32, Device.Cpu);
        var a = Nd.Exp(x);
        var b = Nd.Relu(a);
        var c = Nd.Tanh(b) + a;   // exp stays alive until the add
        var graph = tracer.Finish([Nd.Sigmoid(c)]);
        var plan = MemoryPlan.For(graph);
        plan.Verify();
        plan.UnplannedBytes.ShouldBe(5 * 4000);
        // exp's buffer is read by add, so relu cannot overwrite it; tanh overwrites relu's; add overwrites one
        // of its inputs; sigmoid is the graph output and gets its own.
        plan.StorageCount.ShouldBe(2);
        plan.PlannedBytes.ShouldBe(2 * 4000);
        plan.InPlaceCount.ShouldBe(2);
    }

    [Test]
    public void ASmallLongLivedValueDoesNotTakeALargeFreedBuffer()
    {
        Graph graph;
        NodeOutput aValue, bValue;
        using (var tracer = new Tracer("test"))
        {
            var x = tracer.Input("data", new Shape(1000), DType.Float32, Device.Cpu);
            var a = Nd.Exp(x);            // 4000 bytes, freed after the sum
            var s1 = Nd.Sum(a);           // 4 bytes
            var s2 = s1 * s1;             // 4 bytes, alive to the end: best fit alone puts it in a's freed buffer
            var b = x * s2;               // 4000 bytes, after s2: then needs a buffer of its own (or s1's, grown)
            graph = tracer.Finish([b + s2]);
            (aValue, bValue) = (a.Traced!.Value, b.Traced!.Value);
        }
        var plan = MemoryPlan.For(graph);
        plan.Verify();
        // a's buffer is kept for b; the two scalars get their own: 4000 + 4 + 4 bytes, not 8000.
        plan.PlannedBytes.ShouldBe(4008);
        plan.StorageOf(bValue).ShouldBe(plan.StorageOf(aValue));

        using var data = Nd.Array(TestData.Uniform(new Random(5), 1000), new Shape(1000));
        var result = new GraphExecutor(graph).Run([data], n => throw new InvalidOperationException(n.Name))[0];
        using var sum = Nd.Sum(Nd.Exp(data));
        using var expected = data * (sum * sum) + sum * sum;
        TensorAssert.AllClose(result.ToArray(), expected.ToArray(), new Tolerance(1e-6, 1e-6), "b + s2");
        result.Dispose();
    }

    [Test]
    public void ResNet18InferencePlansUnderAQuarterOfTheUnplannedBytes()
    {
        var net = new HybridSequential();
        net.Add(Engine.Gluon.ModelZoo.ResNet18V1(classes: 10, thumbnail: true));
        net.Initialize();
        net.Hybridize();
        using var x = Nd.Zeros(new Shape(2, 3, 32, 32));
        net.Call(x).Dispose();
        var inference = MemoryPlan.For(net.CachedGraph!);
        inference.Verify();
        TestContext.Out.WriteLine($"inference {inference.PlannedBytes} / {inference.UnplannedBytes}");
        ((double)inference.PlannedBytes / inference.UnplannedBytes).ShouldBeLessThan(0.25);
        var training = MemoryPlan.For(new TrainingGraph(net.CachedGraph!).Joint);
        training.Verify();
        TestContext.Out.WriteLine($"training {training.PlannedBytes} / {training.UnplannedBytes}");
        ((double)training.PlannedBytes / training.UnplannedBytes).ShouldBeLessThan(0.5);
        var text = net.Explain();
        text.ShouldContain("kernels per inference call");
        text.ShouldContain("bytes planned against");
        foreach (var line in text.Split('\n').Where(l => l.Contains("memory plan"))) TestContext.Out.WriteLine(line);
    }
}
