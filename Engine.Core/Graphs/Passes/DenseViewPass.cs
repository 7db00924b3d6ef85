using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>
/// Puts a <c>copy</c> in front of every view that cannot be a view of its input's layout (a reshape of a
/// transposed value): eagerly such a reshape copies inside its view kernel, but a compiled graph runs views as
/// layouts over planned buffers, so the copy must be a node of its own that the memory plan sees.
/// </summary>
public sealed class DenseViewPass : IGraphPass
{
    public string Name => "dense-views";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["views-are-layouts"];

    public Graph Run(Graph graph)
    {
        var layouts = new Dictionary<NodeOutput, TensorLayout>();
        var replaced = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        bool changed = false;
        foreach (var n in graph.Nodes)
        {
            var inputs = n.Inputs.Select(i => new NodeOutput(replaced[i.Node], i.Index)).ToArray();
            var node = inputs.SequenceEqual(n.Inputs) || n.IsVariable ? n
                : Node.Apply(n.Name, n.Op!, n.Attrs!, inputs, n.OutputTypes);
            if (n.Op is { IsView: true } op)
            {
                var source = inputs[0];
                var layout = op.ViewLayout(n.Attrs!, Layout(source), source.Type.DType, n.OutputTypes[0]);
                if (layout is null)
                {
                    var copy = Node.Apply(n.Name + "_dense", CopyOps.Copy, NoAttrs.Instance, [source], [source.Type]);
                    node = Node.Apply(n.Name, op, n.Attrs!, [copy[0]], n.OutputTypes);
                    layout = op.ViewLayout(n.Attrs!, Layout(copy[0]), source.Type.DType, n.OutputTypes[0])!;
                    changed = true;
                }
                layouts[node[0]] = layout;
            }
            changed |= !ReferenceEquals(node, n);
            replaced[n] = node;
        }
        return !changed ? graph : new Graph(graph.Inputs,
            graph.Outputs.Select(o => new NodeOutput(replaced[o.Node], o.Index)).ToList(), graph.Parameters);

        TensorLayout Layout(NodeOutput value) =>
            layouts.TryGetValue(value, out var l) ? l
            : value.Node.Kind == NodeKind.Constant ? value.Node.Value!.Layout
            : TensorLayout.Contiguous(value.Type.Shape);
    }
}
