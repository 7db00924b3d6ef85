using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>
/// Folds a relu's backward into the pooling backward it reads: <c>_backward_relu(x, _backward_pooling(x, y, dy))</c>,
/// where x, the pooled input, is the relu's output (a relu before a pooling: LeNet's conv, relu, pool), becomes
/// one <c>_backward_pooling[relu_mask=True](x, y, dy)</c> that zeroes the gradient wherever x &lt;= 0 as it writes
/// each plane. The pooling backward's dx is then never written to memory and read back: one pass over the largest
/// activation of the layer instead of two. Only when the relu's backward is the pooling backward's only reader;
/// 1-D and 2-D pooling (3-D keeps both operators). Runs on training graphs after the gradient, before fusion.
/// </summary>
public sealed class ReluPoolingBackwardPass : IGraphPass
{
    public string Name => "relu-pooling-backward";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["relu-pooling-backward"];

    public Graph Run(Graph graph)
    {
        var readers = GraphRewrite.Readers(graph);
        var folded = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Operators)
        {
            if (n.Op != ElementwiseOps.ReluBackward) continue;
            var pooled = n.Inputs[1];
            var p = pooled.Node;
            bool plain = p.Op == PoolingOps.PoolingBackward && p.Attrs is PoolingAttrs { ReluMask: false };
            if (!plain || readers[p] != 1) continue;
            // The mask must be the pooled input itself (the relu's output that the pooling read).
            if (p.Inputs[0] != n.Inputs[0] || p.Inputs[0].Type.Shape.Rank == 5) continue;
            if (n.OutputTypes[0] != p.OutputTypes[0]) continue;
            folded.Add(n);
        }
        if (folded.Count == 0) return graph;
        return GraphRewrite.Rebuild(graph, (n, inputs) =>
        {
            if (!folded.Contains(n)) return null;
            var pooling = inputs[1].Node;
            var attrs = (PoolingAttrs)pooling.Attrs! with { ReluMask = true };
            return GraphRewrite.Replace(Node.Apply(n.Name, PoolingOps.PoolingBackward, attrs,
                pooling.Inputs.ToArray(), n.OutputTypes));
        });
    }
}
