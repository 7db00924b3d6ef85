using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>
/// Merges operator nodes that apply the same operator, with equal attributes (attribute records compare by value),
/// to the same inputs. Operators that draw random numbers or write their inputs are never merged.
/// </summary>
public sealed class CommonSubexpressionPass : IGraphPass
{
    public string Name => "common-subexpression";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["no-common-subexpressions"];

    public Graph Run(Graph graph)
    {
        var replaced = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var seen = new Dictionary<(OpDef, OpAttrs, string), Node>();
        var ids = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Nodes)
        {
            if (n.Kind != NodeKind.Op)
            {
                replaced[n] = n;
                ids[n] = ids.Count;
                continue;
            }
            var inputs = n.Inputs.Select(i => new NodeOutput(replaced[i.Node], i.Index)).ToArray();
            string key = string.Join(",", inputs.Select(i => $"{ids[i.Node]}:{i.Index}"));
            bool pure = n.Attrs is not IPerCallAttributes && n.Op!.Mutates.Count == 0;
            if (pure && seen.TryGetValue((n.Op!, n.Attrs!, key), out var existing))
            {
                replaced[n] = existing;
                continue;
            }
            var copy = inputs.SequenceEqual(n.Inputs) ? n : Node.Apply(n.Name, n.Op!, n.Attrs!, inputs, n.OutputTypes);
            replaced[n] = copy;
            ids[copy] = ids.Count;
            if (pure) seen[(n.Op!, n.Attrs!, key)] = copy;
        }
        return new Graph(graph.Inputs, graph.Outputs.Select(o => new NodeOutput(replaced[o.Node], o.Index)).ToList(),
            graph.Parameters);
    }
}
