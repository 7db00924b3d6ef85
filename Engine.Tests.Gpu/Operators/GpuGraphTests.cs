using Engine.Graphs;
using Engine.Graphs.Passes;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// A compiled graph on the GPU device: planned values are ranges of one arena (offsets into one device buffer),
/// views are layouts over them, outputs are fresh arrays; the results equal the eager GPU results.
/// </summary>
public sealed class GpuGraphTests : GpuFixture
{
    [TestCase(false)]
    [TestCase(true)]
    public void ACompiledGraphOverAnArenaAgreesWithEager(bool staticAlloc)
    {
        using var scope = NDArray.Scope();
        var values = RandomFloats(6 * 8, 201);
        var x = Nd.Array(values, new Shape(6, 8)).CopyTo(TestDevice);
        Graph graph;
        using (var tracer = new Tracer("gpu test"))
        {
            var input = tracer.Input("data", new Shape(6, 8), DType.Float32, TestDevice);
            graph = tracer.Finish([Body(input)]);
        }
        var compiled = CompiledGraph.Compile(GraphExecutor.Optimize(graph), TestDevice, staticAlloc);
        compiled.ArenaBytes.ShouldBeGreaterThan(0);
        var expected = Body(x).ToArray();
        for (int call = 0; call < 2; call++)
        {
            var y = compiled.Run([x], _ => throw new InvalidOperationException("no parameters"));
            AssertClose(y[0].ToArray(), expected, 1e-6, 1e-6, $"call {call}");
        }
    }

    [Test]
    public void FusedReductionsInACompiledGraphAgreeWithEager()
    {
        using var scope = NDArray.Scope();
        var x = Nd.Array(RandomFloats(40 * 24, 202), new Shape(40, 24)).CopyTo(TestDevice);
        static NDArray[] Reductions(NDArray v) =>
        [
            Nd.Sum(Nd.Relu(v * 0.5 - 0.2) * v, [0], keepDims: true),   // the bias-gradient shape
            Nd.Mean(Nd.Exp(v * 0.1) + v, [1]),
        ];
        Graph graph;
        using (var tracer = new Tracer("gpu test"))
            graph = tracer.Finish(Reductions(tracer.Input("data", new Shape(40, 24), DType.Float32, TestDevice)));
        var optimized = CompilerPipeline.Inference(graph, new CompilerOptions());
        optimized.Operators.Select(n => n.Op!.Name).ShouldBe(["_fused_elementwise", "_fused_elementwise"]);
        var compiled = CompiledGraph.Compile(optimized, TestDevice, staticAlloc: false);
        var y = compiled.Run([x], _ => throw new InvalidOperationException("no parameters"));
        var expected = Reductions(x);
        for (int k = 0; k < 2; k++) AssertClose(y[k].ToArray(), expected[k].ToArray(), 1e-6, 1e-6, $"output {k}");
    }

    /// <summary>exp stays alive until the add; the transpose and reshape read a planned buffer as a layout.</summary>
    private static NDArray Body(NDArray x)
    {
        var a = Nd.Exp(x * 0.1);
        var b = Nd.Relu(a - 1).Transpose(1, 0);
        var c = Nd.Tanh(b).Reshape(-1) + a.Transpose(1, 0).Reshape(-1);
        return Nd.Sigmoid(c);
    }
}
