namespace Engine.Graphs.Passes;

/// <summary>
/// Helpers for passes that replace nodes one by one in topological order: reader counts, and a rebuild that
/// remaps every edge through the replacements.
/// </summary>
internal static class GraphRewrite
{
    /// <summary>What a rewrite does with one node: keep it (null), replace it, or send its readers elsewhere.</summary>
    public sealed record Action(Node? Replacement, NodeOutput? Target);

    public static Action Replace(Node node) => new(node, null);

    /// <summary>Readers of the node's (single) output read <paramref name="target"/> instead (of an earlier
    /// node's replacement: the target is remapped too).</summary>
    public static Action Redirect(NodeOutput target) => new(null, target);

    /// <summary>How many times each node's outputs are read, graph outputs included.</summary>
    public static Dictionary<Node, int> Readers(Graph graph)
    {
        var readers = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Nodes)
        {
            readers.TryAdd(n, 0);
            foreach (var i in n.Inputs) readers[i.Node] = readers.GetValueOrDefault(i.Node) + 1;
        }
        foreach (var o in graph.Outputs) readers[o.Node]++;
        return readers;
    }

    /// <summary>
    /// Visits the nodes in topological order with their remapped inputs; <paramref name="rewrite"/> returns null to
    /// keep a node (copied when its inputs changed). Parameters no node reads any more are dropped.
    /// </summary>
    public static Graph Rebuild(Graph graph, Func<Node, NodeOutput[], Action?> rewrite)
    {
        var copies = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var redirects = new Dictionary<Node, NodeOutput>(ReferenceEqualityComparer.Instance);
        NodeOutput Map(NodeOutput o) =>
            redirects.TryGetValue(o.Node, out var r) ? r : new NodeOutput(copies[o.Node], o.Index);
        foreach (var n in graph.Nodes)
        {
            var inputs = n.Inputs.Select(Map).ToArray();
            var action = rewrite(n, inputs);
            if (action?.Target is { } target)
            {
                redirects[n] = redirects.TryGetValue(target.Node, out var t) ? t
                    : copies.TryGetValue(target.Node, out var c) ? new NodeOutput(c, target.Index) : target;
                continue;
            }
            copies[n] = action?.Replacement ?? (n.Kind != NodeKind.Op || inputs.SequenceEqual(n.Inputs) ? n
                : Node.Apply(n.Name, n.Op!, n.Attrs!, inputs, n.OutputTypes));
        }
        var used = graph.Parameters.Where(p => copies.ContainsKey(p)).ToList();
        var result = new Graph(graph.Inputs, graph.Outputs.Select(Map).ToList());
        // Keep the parameters' order for those still read (gradient outputs follow it).
        var kept = used.Where(p => result.Nodes.Contains(p)).Concat(result.Parameters).Distinct().ToList();
        return new Graph(graph.Inputs, graph.Outputs.Select(Map).ToList(), kept);
    }
}
