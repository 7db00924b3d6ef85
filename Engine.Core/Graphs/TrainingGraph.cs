using Engine.Graphs.Passes;
using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// A graph prepared for training calls: the forward graph joined with its traced gradient (GradientPass). A call
/// runs the forward part and keeps the values the backward part reads; its gradient then runs only the backward
/// part. Recorded as one tape entry (<see cref="Record"/>), so a hybridized call is one step of autograd.
/// </summary>
public sealed class TrainingGraph
{
    private readonly Graph forward;
    private readonly Graph joint;
    private readonly HashSet<Node> forwardPart = new(ReferenceEqualityComparer.Instance);
    private readonly OpDef<CachedCallAttrs> op;

    private readonly bool[] inputNeedsGradient;

    /// <param name="inputNeedsGradient">Which inputs want a gradient (the others get none, and what only they
    /// would need is never computed); all when null.</param>
    /// <param name="optimize">Passes run on the joint graph after the gradient (fusion); none when null.</param>
    public TrainingGraph(Graph forward, bool[]? inputNeedsGradient = null, IReadOnlyList<IGraphPass>? optimize = null)
    {
        this.forward = forward;
        this.inputNeedsGradient = inputNeedsGradient ?? forward.Inputs.Select(_ => true).ToArray();
        var wanted = Enumerable.Range(0, forward.Inputs.Count).Where(i => this.inputNeedsGradient[i]).ToList();
        joint = new PassPipeline([new GradientPass(wanted), new CommonSubexpressionPass(), new DeadCodePass(),
            .. optimize ?? []]).Run(forward);
        var stack = new Stack<Node>(joint.Outputs.Take(forward.Outputs.Count).Select(o => o.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!forwardPart.Add(n)) continue;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        op = new OpDef<CachedCallAttrs>("_cached_graph", -1, forward.Outputs.Count,
            static (a, _) => a.Graph.forward.Outputs.Select(o => o.Type).ToArray(), FusionClass.Opaque,
            static (a, _, _, g, _) => a.Graph.Backward(a, g))
        {
            // The call keeps what its backward reads itself (the forward values of the joint graph).
            Saves = SavedValues.Nothing,
        };
    }

    public Graph Joint => joint;

    /// <summary>
    /// Runs the forward part on <paramref name="inputs"/> and records one tape entry whose gradient runs the
    /// backward part: inputs and parameters (in <see cref="Graph.Parameters"/> order) receive their gradients as
    /// they would from the operators recorded one by one.
    /// </summary>
    public NDArray[] Record(IReadOnlyList<NDArray> inputs, Func<Node, NDArray> bind)
    {
        var values = new Dictionary<Node, NDArray[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < forward.Inputs.Count; i++) values[joint.Inputs[i]] = [inputs[i]];
        // Gradients come back in the forward graph's order: its inputs, then its parameters.
        var parameters = forward.Parameters.Select(bind).ToArray();
        foreach (var p in joint.Parameters) values[p] = [bind(p)];
        using (Autograd.Pause(Autograd.IsTraining))
        {
            foreach (var n in joint.Nodes)
            {
                if (!forwardPart.Contains(n) || values.ContainsKey(n)) continue;
                values[n] = n.Kind switch
                {
                    NodeKind.Constant => [n.Value!],
                    NodeKind.Op => Run(n, values),
                    _ => throw new InvalidOperationException($"graph: {n.Name} is not bound."),
                };
            }
        }
        var outputs = joint.Outputs.Take(forward.Outputs.Count).Select(o => values[o.Node][o.Index].Detach()).ToArray();
        var attrs = new CachedCallAttrs(this, values);
        var arguments = inputs.Concat(parameters).ToArray();
        Autograd.RecordOperation(op, attrs, arguments, outputs);
        if (outputs.All(y => y.IsDisposed || !IsRecorded(y))) attrs.Dispose();
        return outputs;
    }

    private static bool IsRecorded(NDArray y) => y.Node is not null;

    private NDArray?[] Backward(CachedCallAttrs a, NDArray[] headGrads)
    {
        var values = a.Values;
        int heads = forward.Outputs.Count;
        for (int k = 0; k < heads; k++) values[joint.Inputs[forward.Inputs.Count + k]] = [headGrads[k]];
        var computed = new List<NDArray>();
        var backwardNodes = new List<Node>();
        foreach (var n in joint.Nodes)
        {
            if (values.ContainsKey(n)) continue;
            values[n] = n.Kind == NodeKind.Constant ? [n.Value!] : Run(n, values);
            backwardNodes.Add(n);
            if (n.Kind == NodeKind.Op) computed.AddRange(values[n]);
        }
        var grads = joint.Outputs.Skip(heads).Select(o => values[o.Node][o.Index]).ToArray();
        var keep = new HashSet<NDArray>(grads, ReferenceEqualityComparer.Instance);
        foreach (var c in computed)
        {
            if (!keep.Contains(c)) c.Dispose();
        }
        for (int k = 0; k < heads; k++) values.Remove(joint.Inputs[forward.Inputs.Count + k]);
        foreach (var n in backwardNodes) values.Remove(n);
        // A gradient that is a forward value (an identity) must not be freed with the call's state; inputs that
        // want no gradient get none.
        var forwardValues = new HashSet<NDArray>(a.ForwardArrays, ReferenceEqualityComparer.Instance);
        var result = grads.Select(g => (NDArray?)(forwardValues.Contains(g) ? g.Detach() : g)).ToArray();
        for (int i = 0; i < inputNeedsGradient.Length; i++)
        {
            if (inputNeedsGradient[i]) continue;
            if (!forwardValues.Contains(grads[i])) grads[i].Dispose();
            result[i] = null;
        }
        return result;
    }

    private static NDArray[] Run(Node n, Dictionary<Node, NDArray[]> values)
    {
        var args = n.Inputs.Select(i => values[i.Node][i.Index]).ToArray();
        var attrs = n.Attrs is IPerCallAttributes perCall
            ? perCall.ForCall(args.Select(x => new TensorType(x.Shape, x.DType)).ToArray())
            : n.Attrs!;
        return n.Op!.Invoke(attrs, args);
    }

    /// <summary>The state of one recorded call: the forward values its backward reads.</summary>
    internal sealed record CachedCallAttrs : OpAttrs, IDisposable
    {
        public CachedCallAttrs(TrainingGraph graph, Dictionary<Node, NDArray[]> values)
        {
            Graph = graph;
            Values = values;
            ForwardArrays = values.Where(kv => kv.Key.Kind == NodeKind.Op).SelectMany(kv => kv.Value).ToList();
        }

        public TrainingGraph Graph { get; }

        public Dictionary<Node, NDArray[]> Values { get; }

        public IReadOnlyList<NDArray> ForwardArrays { get; }

        public void Dispose()
        {
            foreach (var a in ForwardArrays) a.Dispose();
            Values.Clear();
        }
    }
}
