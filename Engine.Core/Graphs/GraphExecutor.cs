using Engine.Graphs.Passes;

namespace Engine.Graphs;

/// <summary>
/// Runs a graph on concrete arrays: inputs by position, parameters through a binder. The graph is optimized once
/// (common subexpressions merged, dead code removed, views made layouts) and compiled per device into a
/// <see cref="CompiledGraph"/>: a flat list of prepared kernel launches over the buffers of a memory plan. Calls
/// record nothing on the autograd tape (a recorded hybridized call goes through <see cref="TrainingGraph"/>).
/// </summary>
public sealed class GraphExecutor
{
    private CompiledGraph? compiled;

    /// <param name="graph">The traced graph.</param>
    /// <param name="staticAlloc">Keep the plan's arena between calls instead of renting it per call.</param>
    public GraphExecutor(Graph graph, bool staticAlloc = false)
    {
        Graph = graph;
        StaticAlloc = staticAlloc;
        Optimized = Optimize(graph);
    }

    /// <summary>The graph as traced.</summary>
    public Graph Graph { get; }

    /// <summary>The graph the executor compiles: <see cref="Graph"/> after the optimizing passes.</summary>
    public Graph Optimized { get; }

    public bool StaticAlloc { get; }

    /// <summary>The compiled form of the most recent call's device (null before the first call).</summary>
    public CompiledGraph? Compiled => compiled;

    /// <summary>The passes every executed graph goes through before its memory is planned.</summary>
    public static Graph Optimize(Graph graph) =>
        new PassPipeline(new CommonSubexpressionPass(), new DeadCodePass(), new DenseViewPass()).Run(graph);

    /// <summary>The compiled graph for <paramref name="device"/> (compiled on first use, then kept).</summary>
    public CompiledGraph CompileFor(Device device)
    {
        var c = compiled;
        if (c is not null && c.Device == device) return c;
        c = CompiledGraph.Compile(Optimized, device, StaticAlloc);
        compiled = c;
        return c;
    }

    /// <summary>Runs the graph; <paramref name="bind"/> gives each parameter node's current value.</summary>
    /// <param name="checkInputs">Check shapes, dtypes and devices against the graph (skipped only when the caller
    /// has already checked them, as a StaticShape block does).</param>
    public NDArray[] Run(IReadOnlyList<NDArray> inputs, Func<Node, NDArray> bind, bool checkInputs = true)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != Graph.Inputs.Count)
            throw new ArgumentException($"graph: expects {Graph.Inputs.Count} inputs, got {inputs.Count}.");
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"graph: input {i} is null.");
        }
        var device = inputs.Count > 0 ? inputs[0].Device : DefaultDevice.Current;
        return CompileFor(device).Run(inputs, bind, checkInputs);
    }
}
