using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>
/// Appends the backward computation to a graph: the operators' own gradient rules, traced into the same IR, in
/// reverse topological order, with fan-out gradients summed. The result's inputs are the forward inputs followed
/// by one head gradient per forward output (named <c>OUTPUT_grad</c>); its outputs are the forward outputs
/// followed by the gradient of every forward input and parameter, in that order (zeros where none flows).
/// </summary>
public sealed class GradientPass(IReadOnlyCollection<int>? inputsWithGradient = null) : IGraphPass
{
    /// <summary>A pass that differentiates with respect to every input and parameter.</summary>
    public GradientPass() : this(null) { }

    public string Name => "gradient";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["gradients"];

    public Graph Run(Graph graph)
    {
        using var tracer = new Tracer("gradient pass");
        var values = new Dictionary<Node, NDArray[]>(ReferenceEqualityComparer.Instance);
        var device = DefaultDevice.Current;
        foreach (var input in graph.Inputs)
            values[input] = [tracer.Input(input.Name, input.OutputTypes[0].Shape, input.OutputTypes[0].DType, device)];
        foreach (var p in graph.Parameters)
        {
            var type = p.OutputTypes[0];
            values[p] = [tracer.Parameter(p.Name, NDArray.ShapeOnly(type.Shape, type.DType, device, p.Name),
                p.Binding ?? p)];
        }
        // Replay the forward graph into the tracer, so the backward nodes can refer to its values.
        foreach (var n in graph.Nodes)
        {
            if (values.ContainsKey(n)) continue;
            if (n.Kind == NodeKind.Constant)
            {
                values[n] = [n.Value!];
                continue;
            }
            var args = n.Inputs.Select(i => values[i.Node][i.Index]).ToArray();
            values[n] = n.Op!.Invoke(n.Attrs!, args);
            tracer.Rename(values[n][0], n.Name);
        }
        var heads = graph.Outputs.Select(o => values[o.Node][o.Index]).ToList();
        var headGrads = graph.Outputs.Select(o => tracer.Input(o.Node.Name + "_grad", o.Type.Shape, o.Type.DType,
            device)).ToList();

        var grads = new Dictionary<(Node, int), NDArray>();
        for (int k = 0; k < graph.Outputs.Count; k++)
            Accumulate(grads, (graph.Outputs[k].Node, graph.Outputs[k].Index), headGrads[k]);
        var needed = NeedsGradient(graph, inputsWithGradient);
        foreach (var n in graph.Nodes.Reverse())
        {
            if (n.Kind != NodeKind.Op || !n.Op!.HasGradient) continue;
            if (!Enumerable.Range(0, n.NumOutputs).Any(i => grads.ContainsKey((n, i)))) continue;
            var outputs = values[n];
            var outGrads = new NDArray[outputs.Length];
            for (int i = 0; i < outGrads.Length; i++)
                outGrads[i] = grads.TryGetValue((n, i), out var g) ? g : Nd.ZerosLike(outputs[i]);
            var required = n.Inputs.Select(i => needed.Contains(i.Node)).ToArray();
            var inputs = n.Inputs.Select(i => values[i.Node][i.Index]).ToArray();
            var inGrads = n.Op.InvokeGradient(n.Attrs!, inputs, outputs, outGrads, required);
            for (int i = 0; i < inGrads.Length; i++)
            {
                if (inGrads[i] is { } gi && required[i]) Accumulate(grads, (n.Inputs[i].Node, n.Inputs[i].Index), gi);
            }
        }
        var wrt = graph.Inputs.Concat(graph.Parameters).ToList();
        var results = heads.Concat(wrt.Select(v => grads.TryGetValue((v, 0), out var g) ? g
            : Nd.ZerosLike(values[v][0]))).ToList();
        return tracer.Finish(results);
    }

    private static void Accumulate(Dictionary<(Node, int), NDArray> grads, (Node, int) key, NDArray g) =>
        grads[key] = grads.TryGetValue(key, out var previous) ? previous + g : g;

    /// <summary>
    /// Nodes through which a gradient can reach a differentiable parameter or one of the inputs asked for (all
    /// when none are named): gradients that reach nothing wanted are never computed (a network's data input).
    /// </summary>
    private static HashSet<Node> NeedsGradient(Graph graph, IReadOnlyCollection<int>? inputs)
    {
        var wanted = graph.Inputs.Where((_, i) => inputs is null || inputs.Contains(i));
        var result = new HashSet<Node>(wanted.Concat(graph.Parameters.Except(graph.AuxiliaryStates)),
            ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Nodes)
        {
            if (n.Kind == NodeKind.Op && n.Inputs.Any(i => result.Contains(i.Node))) result.Add(n);
        }
        return result;
    }
}
