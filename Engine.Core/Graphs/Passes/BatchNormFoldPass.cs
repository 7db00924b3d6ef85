using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>
/// For inference graphs: a BatchNorm with fixed statistics that reads a Convolution (its only reader) becomes
/// part of the convolution, y = conv(x, W * s) + (b - mean) * s + beta with s = gamma / sqrt(var + eps) per
/// output channel. The folded weight and bias are parameters of the new graph bound to a
/// <see cref="BatchNormFold"/>: computed from the current parameter values on the first call and again only
/// after one of them changed (a Trainer step, SetData, loading). Never run on training graphs: the gradient
/// needs the unfolded weights.
/// </summary>
public sealed class BatchNormFoldPass : IGraphPass
{
    public string Name => "batch-norm-fold";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["batch-norm-folded"];

    public Graph Run(Graph graph)
    {
        var readers = GraphRewrite.Readers(graph);
        var statisticsRead = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Nodes)
        {
            foreach (var i in n.Inputs.Where(i => i.Index > 0)) statisticsRead.Add(i.Node);
        }
        foreach (var o in graph.Outputs.Where(o => o.Index > 0)) statisticsRead.Add(o.Node);

        var folds = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance); // batch norm -> conv
        foreach (var n in graph.Operators)
        {
            if (n.Op != NormalizationOps.BatchNorm || n.Attrs is not BatchNormAttrs { Training: false } bn) continue;
            var conv = n.Inputs[0].Node;
            if (conv.Attrs is not ConvolutionAttrs { Activation: Kernels.EpilogueActivation.None }) continue;
            if (bn.Axis != 1 || readers[conv] != 1 || statisticsRead.Contains(n)) continue;
            if (n.Inputs.Skip(1).Concat(conv.Inputs.Skip(1)).Any(i => i.Node.Kind != NodeKind.Parameter)) continue;
            folds[n] = conv;
        }
        if (folds.Count == 0) return graph;
        var convs = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        foreach (var (norm, conv) in folds) convs[conv] = norm;
        return GraphRewrite.Rebuild(graph, (n, inputs) =>
        {
            if (folds.TryGetValue(n, out var conv)) return GraphRewrite.Redirect(conv[0]);
            if (!convs.TryGetValue(n, out var norm)) return null;
            var a = (ConvolutionAttrs)n.Attrs!;
            var bn = (BatchNormAttrs)norm.Attrs!;
            var fold = new BatchNormFold(n.Inputs[1].Node, a.NoBias ? null : n.Inputs[2].Node, norm.Inputs[1].Node,
                norm.Inputs[2].Node, norm.Inputs[3].Node, norm.Inputs[4].Node, bn.Epsilon, bn.FixGamma);
            var weight = Node.Parameter(norm.Name + "_folded_weight", n.Inputs[1].Type, fold.WeightBinding);
            var bias = Node.Parameter(norm.Name + "_folded_bias", norm.Inputs[2].Type, fold.BiasBinding);
            return GraphRewrite.Replace(Node.Apply(n.Name, n.Op!, a with { NoBias = false },
                [inputs[0], weight[0], bias[0]], n.OutputTypes));
        });
    }
}
