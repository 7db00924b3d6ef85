using Engine.Kernels;
using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>
/// Folds a relu, sigmoid or tanh into the FullyConnected or Convolution that feeds it (the kernel applies the
/// activation to its own output: <see cref="EpilogueActivation"/>), when the activation is the product's only
/// reader and the product is no graph output. The bias add is already part of both operators. Runs after the
/// gradient pass: the folded node has no gradient of its own, and the backward nodes that read the activation's
/// output read the folded node's instead.
/// </summary>
public sealed class EpilogueFusionPass : IGraphPass
{
    public string Name => "epilogue-fusion";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["epilogues"];

    public Graph Run(Graph graph)
    {
        var readers = GraphRewrite.Readers(graph);
        var folded = new Dictionary<Node, (Node Producer, EpilogueActivation Activation)>(
            ReferenceEqualityComparer.Instance);
        var producers = new Dictionary<Node, EpilogueActivation>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Operators)
        {
            var activation = n.Op == ElementwiseOps.Relu ? EpilogueActivation.Relu
                : n.Op == ElementwiseOps.Sigmoid ? EpilogueActivation.Sigmoid
                : n.Op == ElementwiseOps.Tanh ? EpilogueActivation.Tanh : EpilogueActivation.None;
            if (activation == EpilogueActivation.None) continue;
            var p = n.Inputs[0].Node;
            bool plain = p.Attrs is FullyConnectedAttrs { Activation: EpilogueActivation.None }
                || p.Attrs is ConvolutionAttrs { Activation: EpilogueActivation.None };
            if (!plain || readers[p] != 1 || p.OutputTypes[0].DType is not (DType.Float32 or DType.Float64)) continue;
            folded[n] = (p, activation);
            producers[p] = activation;
        }
        if (folded.Count == 0) return graph;
        return GraphRewrite.Rebuild(graph, (n, inputs) =>
        {
            if (folded.TryGetValue(n, out var f)) return GraphRewrite.Redirect(f.Producer[0]);
            if (!producers.TryGetValue(n, out var activation)) return null;
            OpAttrs attrs = n.Attrs switch
            {
                FullyConnectedAttrs a => a with { Activation = activation },
                ConvolutionAttrs a => a with { Activation = activation },
                _ => throw new InvalidOperationException($"epilogue-fusion: unexpected producer {n.Name}."),
            };
            return GraphRewrite.Replace(Node.Apply(n.Name, n.Op!, attrs, inputs, n.OutputTypes));
        });
    }
}
