using Engine.Kernels.Fusion;
using Engine.Ops;

namespace Engine.Graphs.Passes;

/// <summary>Options of <see cref="FusionPass"/>.</summary>
public sealed record FusionOptions
{
    /// <summary>How the CPU runs the fused programs (docs/graph-compiler.md has the comparison).</summary>
    public FusionDesign Design { get; init; } = FusionDesign.GenericStruct;

    /// <summary>
    /// For a graph joined with its gradient (TrainingGraph): how many of its outputs are the forward outputs. The
    /// nodes they depend on run in the forward call and the others in backward, so no group mixes the two.
    /// Null for a plain graph.
    /// </summary>
    public int? ForwardOutputs { get; init; }
}

/// <summary>
/// Replaces maximal groups of elementwise and broadcast operators of one dtype and one output shape with one
/// <see cref="FusionOps.FusedElementwise"/> node each. A member's value stays materialised (an output of the fused
/// node) when a node outside the group reads it or it is a graph output, which covers the forward values a
/// backward graph reads. Groups never form a cycle, never take more than <see cref="FusedProgram.MaxInputs"/>
/// inputs, and, in a training graph, never mix forward and backward nodes. Run it after the gradient pass: the
/// fused operator has no gradient of its own.
/// </summary>
public sealed class FusionPass(FusionOptions? options = null) : IGraphPass
{
    private readonly FusionOptions options = options ?? new FusionOptions();

    public string Name => "fusion";

    public IReadOnlyList<string> Requires => ["types"];

    public IReadOnlyList<string> Provides => ["fused"];

    public Graph Run(Graph graph) => new Grouping(graph, options).Rewrite();

    /// <summary>Whether the pass may put <paramref name="n"/> in a group.</summary>
    public static bool IsFusable(Node n)
    {
        if (n.Kind != NodeKind.Op || n.Op!.Math is not { } math || n.NumOutputs != 1) return false;
        if (n.Op.Fusion is not (FusionClass.Elementwise or FusionClass.Broadcast)) return false;
        if (n.Op.Mutates.Count > 0 || n.Attrs is IPerCallAttributes || n.Inputs.Count != math.Arity) return false;
        var dtype = n.OutputTypes[0].DType;
        if (!math.DTypes.Contains(dtype) || n.Inputs.Any(i => i.Type.DType != dtype)) return false;
        return dtype is DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64;
    }

    private sealed class Grouping
    {
        private readonly Graph graph;
        private readonly FusionOptions options;
        private readonly Dictionary<Node, int> group = new(ReferenceEqualityComparer.Instance);
        private readonly List<int> parent = [];
        private readonly List<List<Node>> members = [];
        private readonly HashSet<Node> forward = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Node, int> order = new(ReferenceEqualityComparer.Instance);

        public Grouping(Graph graph, FusionOptions options)
        {
            this.graph = graph;
            this.options = options;
            for (int k = 0; k < graph.Nodes.Count; k++) order[graph.Nodes[k]] = k;
            if (options.ForwardOutputs is int heads)
            {
                var stack = new Stack<Node>(graph.Outputs.Take(heads).Select(o => o.Node));
                while (stack.Count > 0)
                {
                    var n = stack.Pop();
                    if (!forward.Add(n)) continue;
                    foreach (var i in n.Inputs) stack.Push(i.Node);
                }
            }
        }

        public Graph Rewrite()
        {
            foreach (var n in graph.Nodes)
            {
                if (!IsFusable(n)) continue;
                int g = NewGroup(n);
                foreach (var input in n.Inputs)
                {
                    if (!group.TryGetValue(input.Node, out int other)) continue;
                    other = Find(other);
                    g = Find(g);
                    if (other == g || !Compatible(n, members[other][0]) || !CanMerge(g, other)) continue;
                    Union(g, other);
                }
            }
            var replaced = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
            var fusedOutputs = new Dictionary<Node, NodeOutput>(ReferenceEqualityComparer.Instance);
            var outputs = graph.Outputs.Select(o => Map(o, replaced, fusedOutputs)).ToList();
            return new Graph(graph.Inputs, outputs, graph.Parameters);
        }

        private bool Compatible(Node a, Node b) =>
            a.OutputTypes[0] == b.OutputTypes[0] && forward.Contains(a) == forward.Contains(b);

        private int NewGroup(Node n)
        {
            int g = parent.Count;
            parent.Add(g);
            members.Add([n]);
            group[n] = g;
            return g;
        }

        private int Find(int g)
        {
            while (parent[g] != g) g = parent[g] = parent[parent[g]];
            return g;
        }

        private void Union(int a, int b)
        {
            parent[b] = a;
            members[a].AddRange(members[b]);
            members[b] = [];
        }

        private bool InGroup(Node n, int g) => group.TryGetValue(n, out int h) && Find(h) == g;

        /// <summary>Merging is safe when neither group reaches the other through a node outside both.</summary>
        private bool CanMerge(int a, int b)
        {
            if (ExternalInputs(members[a].Concat(members[b]).ToList()).Count > FusedProgram.MaxInputs) return false;
            return !Reaches(a, b) && !Reaches(b, a);
        }

        /// <summary>Whether a path leaves group <paramref name="from"/> and arrives in <paramref name="to"/>.</summary>
        private bool Reaches(int from, int to)
        {
            var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
            var stack = new Stack<Node>();
            foreach (var m in members[from])
            {
                foreach (var i in m.Inputs)
                {
                    if (!InGroup(i.Node, from) && !InGroup(i.Node, to)) stack.Push(i.Node);
                }
            }
            while (stack.Count > 0)
            {
                var x = stack.Pop();
                if (!seen.Add(x)) continue;
                if (group.TryGetValue(x, out int h))
                {
                    h = Find(h);
                    if (h == to) return true;
                    foreach (var m in members[h])
                    {
                        foreach (var i in m.Inputs) stack.Push(i.Node);
                    }
                    continue;
                }
                foreach (var i in x.Inputs) stack.Push(i.Node);
            }
            return false;
        }

        private static List<NodeOutput> ExternalInputs(List<Node> nodes)
        {
            var inside = new HashSet<Node>(nodes, ReferenceEqualityComparer.Instance);
            var result = new List<NodeOutput>();
            foreach (var m in nodes)
            {
                foreach (var i in m.Inputs)
                {
                    if (!inside.Contains(i.Node) && !result.Contains(i)) result.Add(i);
                }
            }
            return result;
        }

        private NodeOutput Map(NodeOutput o, Dictionary<Node, Node> replaced,
            Dictionary<Node, NodeOutput> fusedOutputs)
        {
            var n = o.Node;
            if (group.TryGetValue(n, out int g) && members[Find(g)].Count > 1)
            {
                if (!fusedOutputs.ContainsKey(n)) EmitGroup(Find(g), replaced, fusedOutputs);
                return fusedOutputs[n];
            }
            if (!replaced.TryGetValue(n, out var copy))
            {
                var inputs = n.Inputs.Select(i => Map(i, replaced, fusedOutputs)).ToArray();
                copy = n.Kind != NodeKind.Op || inputs.SequenceEqual(n.Inputs) ? n
                    : Node.Apply(n.Name, n.Op!, n.Attrs!, inputs, n.OutputTypes);
                replaced[n] = copy;
            }
            return new NodeOutput(copy, o.Index);
        }

        private void EmitGroup(int g, Dictionary<Node, Node> replaced, Dictionary<Node, NodeOutput> fusedOutputs)
        {
            var nodes = members[g].OrderBy(m => order[m]).ToList();
            var inside = new HashSet<Node>(nodes, ReferenceEqualityComparer.Instance);
            var inputs = ExternalInputs(nodes);
            var registers = new Dictionary<NodeOutput, int>();
            for (int k = 0; k < inputs.Count; k++) registers[inputs[k]] = k;
            var dtype = nodes[0].OutputTypes[0].DType;
            var instructions = new List<FusedInstruction>();
            foreach (var m in nodes)
            {
                registers[m[0]] = inputs.Count + instructions.Count;
                instructions.Add(new FusedInstruction(m.Op!.Name, m.Op.Math!.Operator(m.Attrs!, dtype),
                    m.Inputs.Select(i => registers[i]).ToArray()));
            }
            var graphOutputs = new HashSet<Node>(graph.Outputs.Select(o => o.Node), ReferenceEqualityComparer.Instance);
            var materialised = nodes.Where(m => graphOutputs.Contains(m) ||
                graph.Nodes.Any(r => !inside.Contains(r) && r.Inputs.Any(i => ReferenceEquals(i.Node, m)))).ToList();
            var program = new FusedProgram(dtype, inputs.Count, instructions,
                materialised.Select(m => registers[m[0]]).ToArray(), options.Design);
            var mapped = inputs.Select(i => Map(i, replaced, fusedOutputs)).ToArray();
            var attrs = new FusedElementwiseAttrs(program, string.Join(", ", nodes.Select(m => m.Name)));
            var types = FusionOps.FusedElementwise.InferType(attrs, mapped.Select(i => i.Type).ToArray());
            var fused = Node.Apply("fused_" + nodes[^1].Name, FusionOps.FusedElementwise, attrs, mapped, types);
            for (int k = 0; k < materialised.Count; k++) fusedOutputs[materialised[k]] = fused[k];
        }
    }
}
