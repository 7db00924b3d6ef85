using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// Runs a graph on concrete arrays: inputs by position, parameters through a binder, operators through the same
/// eager path as imperative code (so autograd records them, and every backend's kernels serve). Intermediate
/// arrays are freed as soon as their last reader has run.
/// </summary>
public sealed class GraphExecutor
{
    private readonly Graph graph;
    private readonly Dictionary<Node, int> uses = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Node> kept = new(ReferenceEqualityComparer.Instance);

    public GraphExecutor(Graph graph)
    {
        this.graph = graph;
        foreach (var n in graph.Nodes)
        {
            foreach (var i in n.Inputs) uses[i.Node] = uses.GetValueOrDefault(i.Node) + 1;
        }
        foreach (var o in graph.Outputs) kept.Add(o.Node);
    }

    public Graph Graph => graph;

    /// <summary>Runs the graph; <paramref name="bind"/> gives each parameter node's current value.</summary>
    public NDArray[] Run(IReadOnlyList<NDArray> inputs, Func<Node, NDArray> bind)
    {
        if (inputs.Count != graph.Inputs.Count)
            throw new ArgumentException($"graph: expects {graph.Inputs.Count} inputs, got {inputs.Count}.");
        var values = new Dictionary<Node, NDArray[]>(ReferenceEqualityComparer.Instance);
        var remaining = new Dictionary<Node, int>(uses, ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Count; i++) values[graph.Inputs[i]] = [inputs[i]];
        try
        {
            foreach (var n in graph.Nodes)
            {
                switch (n.Kind)
                {
                    case NodeKind.Input:
                        continue;
                    case NodeKind.Parameter:
                        values[n] = [bind(n)];
                        continue;
                    case NodeKind.Constant:
                        values[n] = [n.Value!];
                        continue;
                }
                var args = new NDArray[n.Inputs.Count];
                for (int k = 0; k < args.Length; k++) args[k] = values[n.Inputs[k].Node][n.Inputs[k].Index];
                var attrs = n.Attrs is IPerCallAttributes perCall
                    ? perCall.ForCall(args.Select(a => new TensorType(a.Shape, a.DType)).ToArray())
                    : n.Attrs!;
                values[n] = n.Op!.Invoke(attrs, args);
                foreach (var i in n.Inputs) Release(i.Node, values, remaining);
            }
            return graph.Outputs.Select(o => values[o.Node][o.Index]).ToArray();
        }
        finally
        {
            // Free what a failure left behind and the unused outputs of multi-output nodes.
            var results = new HashSet<NDArray>(graph.Outputs.Where(o => values.ContainsKey(o.Node))
                .Select(o => values[o.Node][o.Index]), ReferenceEqualityComparer.Instance);
            foreach (var (node, arrays) in values)
            {
                if (node.Kind != NodeKind.Op) continue;
                foreach (var a in arrays)
                {
                    if (!results.Contains(a)) a.Dispose();
                }
            }
        }
    }

    private void Release(Node node, Dictionary<Node, NDArray[]> values, Dictionary<Node, int> remaining)
    {
        if (node.Kind != NodeKind.Op || kept.Contains(node)) return;
        if (--remaining[node] > 0) return;
        foreach (var a in values[node]) a.Dispose();
        values.Remove(node);
    }
}
