using Engine.Graphs.Passes;
using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// A graph prepared for training calls: the forward graph joined with its traced gradient (GradientPass), compiled
/// as one launch list with one memory plan over forward and backward together. The forward part runs first; a
/// forward value the backward reads stays in its planned buffer until its last backward reader, and everything
/// else is reused as soon as it dies. A call runs the forward segment and records one tape entry
/// (<see cref="Record"/>) whose gradient runs the backward segment over the same call's buffers.
/// </summary>
public sealed class TrainingGraph
{
    private readonly Graph forward;
    private readonly Graph joint;
    private readonly List<Node> order;
    private readonly int split;
    private readonly OpDef<CachedCallAttrs> op;
    private readonly bool[] inputNeedsGradient;
    private CompiledGraph? compiled;

    /// <param name="inputNeedsGradient">Which inputs want a gradient (the others get none, and what only they
    /// would need is never computed); all when null.</param>
    /// <param name="staticAlloc">Keep the plan's arena between calls.</param>
    /// <param name="optimize">Passes run on the joint graph after the gradient (fusion); none when null.</param>
    public TrainingGraph(Graph forward, bool[]? inputNeedsGradient = null, bool staticAlloc = false,
        IReadOnlyList<IGraphPass>? optimize = null)
    {
        this.forward = forward;
        StaticAlloc = staticAlloc;
        this.inputNeedsGradient = inputNeedsGradient ?? forward.Inputs.Select(_ => true).ToArray();
        var wanted = Enumerable.Range(0, forward.Inputs.Count).Where(i => this.inputNeedsGradient[i]).ToList();
        var traced = new PassPipeline(new GradientPass(wanted)).Run(forward);
        // An input that wants no gradient gets itself as its "gradient" output (never returned, see Backward): the
        // zeros the gradient pass gives it would cost a fill of the input's size on every step.
        var outputs = traced.Outputs.ToList();
        for (int i = 0; i < forward.Inputs.Count; i++)
        {
            if (!this.inputNeedsGradient[i]) outputs[forward.Outputs.Count + i] = traced.Inputs[i][0];
        }
        // Fusion runs after the gradient, on forward and backward together; views are made dense last.
        joint = new PassPipeline([new CommonSubexpressionPass(), new DeadCodePass(), .. optimize ?? [],
            new DenseViewPass()]).Run(new Graph(traced.Inputs, outputs, traced.Parameters), ["types", "gradients"]);
        var forwardPart = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>(joint.Outputs.Take(forward.Outputs.Count).Select(o => o.Node));
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!forwardPart.Add(n)) continue;
            foreach (var i in n.Inputs) stack.Push(i.Node);
        }
        // Forward first, then backward, each in the joint topological order (still a topological order: the
        // forward part reads nothing of the backward part).
        order = joint.Nodes.Where(forwardPart.Contains).ToList();
        split = order.Count;
        order.AddRange(joint.Nodes.Where(n => !forwardPart.Contains(n)));
        Plan = MemoryPlan.For(joint, order);
        op = new OpDef<CachedCallAttrs>("_cached_graph", -1, forward.Outputs.Count,
            static (a, _) => a.Graph.forward.Outputs.Select(o => o.Type).ToArray(), FusionClass.Opaque,
            static (a, _, _, g, _) => a.Graph.Backward(a, g))
        {
            // The call keeps what its backward reads itself (the forward values in its frame).
            Saves = SavedValues.Nothing,
        };
    }

    public Graph Joint => joint;

    public bool StaticAlloc { get; }

    /// <summary>The memory plan over the forward and backward parts together, in the order they run.</summary>
    public MemoryPlan Plan { get; }

    /// <summary>The order the joint graph's nodes run in: the forward part, then the backward part.</summary>
    public IReadOnlyList<Node> ExecutionOrder => order;

    /// <summary>The compiled form of the most recent call's device (null before the first call).</summary>
    public CompiledGraph? Compiled => compiled;

    public CompiledGraph CompileFor(Device device)
    {
        var c = compiled;
        if (c is not null && c.Device == device) return c;
        c = CompiledGraph.Compile(joint, device, StaticAlloc, order, split, Plan);
        compiled = c;
        return c;
    }

    /// <summary>
    /// Runs the forward part on <paramref name="inputs"/> and records one tape entry whose gradient runs the
    /// backward part: inputs and parameters (in <see cref="Graph.Parameters"/> order) receive their gradients as
    /// they would from the operators recorded one by one.
    /// </summary>
    public NDArray[] Record(IReadOnlyList<NDArray> inputs, Func<Node, NDArray> bind, bool checkInputs = true)
    {
        if (inputs.Count != forward.Inputs.Count)
            throw new ArgumentException($"graph: expects {forward.Inputs.Count} inputs, got {inputs.Count}.");
        var device = inputs.Count > 0 ? inputs[0].Device : DefaultDevice.Current;
        var graph = CompileFor(device);
        // Gradients come back in the forward graph's order: its inputs, then its parameters.
        var parameters = forward.Parameters.Select(bind).ToArray();
        var frame = new ExecutionFrame(graph, retainBound: true);
        NDArray[] outputs;
        try
        {
            frame.Bind(inputs, 0, bind, checkInputs);
            frame.RunLaunches(0, graph.SplitLaunch);
            // Views for the caller: the frame keeps its own reference, which the backward may read.
            outputs = frame.Results(0, forward.Outputs.Count, aliasOwned: true);
        }
        catch
        {
            frame.Clear();
            throw;
        }
        var attrs = new CachedCallAttrs(this, frame);
        var arguments = inputs.Concat(parameters).ToArray();
        Autograd.RecordOperation(op, attrs, arguments, outputs);
        if (outputs.All(y => y.IsDisposed || !IsRecorded(y))) attrs.Dispose();
        return outputs;
    }

    private static bool IsRecorded(NDArray y) => y.Node is not null;

    private NDArray?[] Backward(CachedCallAttrs a, NDArray[] headGrads)
    {
        if (a.BackwardRan)
            throw new InvalidOperationException(
                "hybridized call: its backward already ran and reused the buffers of the forward values it read; " +
                "pass retainGraph: true to every backward but the last to differentiate a call twice.");
        if (Autograd.IsRecording)
            throw new InvalidOperationException(
                "hybridized call: its backward runs compiled kernels and cannot be recorded for higher-order " +
                "gradients (createGraph); call Hybridize(false) on the block to differentiate its gradients.");
        // A retained backward keeps the frame: the storages its launches reuse are copied first and put back
        // after, so the next backward reads the forward values again. Only retained backwards pay the copy.
        bool retain = Autograd.RetainsGraph;
        a.BackwardRan = !retain;
        var frame = a.Frame;
        var graph = compiled!;
        int heads = forward.Outputs.Count;
        var snapshot = retain ? frame.Save() : default;
        try
        {
            frame.Bind(headGrads, forward.Inputs.Count, null, check: true);
            frame.RunLaunches(graph.SplitLaunch, graph.LaunchCount);
            var grads = frame.Results(heads, joint.Outputs.Count - heads, aliasOwned: false);
            var result = new NDArray?[grads.Length];
            for (int i = 0; i < grads.Length; i++)
            {
                // Inputs that want no gradient get none.
                if (i < inputNeedsGradient.Length && !inputNeedsGradient[i]) grads[i].Dispose();
                else result[i] = grads[i];
            }
            return result;
        }
        finally
        {
            if (retain) frame.Restore(snapshot);
            else frame.Clear();
        }
    }

    /// <summary>The state of one recorded call: its frame, holding the forward values its backward reads.</summary>
    internal sealed record CachedCallAttrs : OpAttrs, IDisposable
    {
        public CachedCallAttrs(TrainingGraph graph, ExecutionFrame frame)
        {
            Graph = graph;
            Frame = frame;
        }

        public TrainingGraph Graph { get; }

        public ExecutionFrame Frame { get; }

        public bool BackwardRan { get; set; }

        public void Dispose() => Frame.Clear();
    }
}
