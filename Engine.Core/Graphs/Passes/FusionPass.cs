using Engine.Kernels;
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
/// backward graph reads. A sum or mean of a member ends the group (one per group): the program computes the
/// reduced value line by line and never stores it. Scalar <c>full</c> nodes the group reads become immediate
/// constants of the program. Groups never form a cycle, never take more than <see cref="FusedProgram.MaxInputs"/>
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

    /// <summary>Whether <paramref name="n"/> is a reduction that may end a group: sum or mean.</summary>
    public static bool IsFusableReduction(Node n) =>
        n.Kind == NodeKind.Op && (n.Op == ReductionOps.Sum || n.Op == ReductionOps.Mean) && n.Attrs is ReduceAttrs &&
        n.Inputs.Count == 1 && n.Inputs[0].Type.DType == n.OutputTypes[0].DType;

    /// <summary>Whether <paramref name="n"/> is a <c>full</c> a program can take as an immediate constant.</summary>
    public static bool IsConstant(Node n) =>
        n.Kind == NodeKind.Op && n.Op == CopyOps.Full && n.Attrs is FullAttrs &&
        n.OutputTypes[0].DType is DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64;

    private sealed class Grouping
    {
        private readonly Graph graph;
        private readonly FusionOptions options;
        private readonly Dictionary<Node, int> group = new(ReferenceEqualityComparer.Instance);
        private readonly List<int> parent = [];
        private readonly List<List<Node>> members = [];
        private readonly HashSet<Node> forward = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<int, Node> reductions = [];
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
            foreach (var n in graph.Nodes)
            {
                if (!IsFusableReduction(n) || !group.TryGetValue(n.Inputs[0].Node, out int g)) continue;
                g = Find(g);
                if (reductions.ContainsKey(g) || forward.Contains(n) != forward.Contains(members[g][0])) continue;
                if (DependsOn(g, n)) continue;
                reductions[g] = n;
                group[n] = g;
            }
            var replaced = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
            var fusedOutputs = new Dictionary<Node, NodeOutput>(ReferenceEqualityComparer.Instance);
            var outputs = graph.Outputs.Select(o => Map(o, replaced, fusedOutputs)).ToList();
            return new Graph(graph.Inputs, outputs, graph.Parameters);
        }

        /// <summary>Whether a member of group <paramref name="g"/> reads <paramref name="node"/>, directly or not.
        /// </summary>
        private bool DependsOn(int g, Node node)
        {
            var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
            var stack = new Stack<Node>(members[g].SelectMany(m => m.Inputs).Select(i => i.Node));
            while (stack.Count > 0)
            {
                var x = stack.Pop();
                if (ReferenceEquals(x, node)) return true;
                if (!seen.Add(x)) continue;
                foreach (var i in x.Inputs) stack.Push(i.Node);
            }
            return false;
        }

        /// <summary>Whether group <paramref name="g"/> becomes a fused node: it fuses several operators, ends with a
        /// reduction, or takes a constant as an immediate.</summary>
        private bool Emits(int g) =>
            members[g].Count > 1 || reductions.ContainsKey(g) || SplitInputs(members[g]).Constants.Count > 0;

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
            if (SplitInputs(members[a].Concat(members[b]).ToList()).Inputs.Count > FusedProgram.MaxInputs)
                return false;
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

        /// <summary>
        /// A group's external inputs, less the scalar constants it takes as immediates. Constants are folded only
        /// when the other inputs still broadcast to the group's shape (the fused node's shape comes from its inputs).
        /// </summary>
        private static (List<NodeOutput> Inputs, List<NodeOutput> Constants) SplitInputs(List<Node> nodes)
        {
            var all = ExternalInputs(nodes);
            var constants = all.Where(i => IsConstant(i.Node)).ToList();
            if (constants.Count == 0) return (all, constants);
            var inputs = all.Where(i => !IsConstant(i.Node)).ToList();
            var shape = Shape.Scalar;
            foreach (var i in inputs) shape = ShapeRules.Broadcast("fusion", shape, i.Type.Shape);
            return shape == nodes[0].OutputTypes[0].Shape ? (inputs, constants) : (all, []);
        }

        private NodeOutput Map(NodeOutput o, Dictionary<Node, Node> replaced,
            Dictionary<Node, NodeOutput> fusedOutputs)
        {
            var n = o.Node;
            if (group.TryGetValue(n, out int g) && Emits(Find(g)))
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
            reductions.TryGetValue(g, out var reduce);
            var inside = new HashSet<Node>(nodes, ReferenceEqualityComparer.Instance);
            if (reduce is not null) inside.Add(reduce);
            var (inputs, constants) = SplitInputs(nodes);
            var registers = new Dictionary<NodeOutput, int>();
            for (int k = 0; k < inputs.Count; k++) registers[inputs[k]] = k;
            var dtype = nodes[0].OutputTypes[0].DType;
            var instructions = new List<FusedInstruction>();
            foreach (var c in constants)
            {
                var full = (FullAttrs)c.Node.Attrs!;
                registers[c] = inputs.Count + instructions.Count;
                instructions.Add(FusedInstruction.Constant(dtype, full.Value, Format.Number(full.Value)));
            }
            foreach (var m in nodes)
            {
                registers[m[0]] = inputs.Count + instructions.Count;
                instructions.Add(new FusedInstruction(m.Op!.Name, m.Op.Math!.Operator(m.Attrs!, dtype),
                    m.Inputs.Select(i => registers[i]).ToArray()));
            }
            var graphOutputs = new HashSet<Node>(graph.Outputs.Select(o => o.Node), ReferenceEqualityComparer.Instance);
            var materialised = nodes.Where(m => graphOutputs.Contains(m) ||
                graph.Nodes.Any(r => !inside.Contains(r) && r.Inputs.Any(i => ReferenceEquals(i.Node, m)))).ToList();
            FusedReduction? reduction = null;
            if (reduce is not null)
            {
                var attrs = (ReduceAttrs)reduce.Attrs!;
                int rank = reduce.Inputs[0].Type.Shape.Rank;
                reduction = new FusedReduction(reduce.Op == ReductionOps.Mean ? ReduceOp.Mean : ReduceOp.Sum,
                    registers[reduce.Inputs[0]], attrs.Axes.Select(a => a < 0 ? a + rank : a).ToArray(),
                    attrs.KeepDims);
            }
            var program = new FusedProgram(dtype, inputs.Count, instructions,
                materialised.Select(m => registers[m[0]]).ToArray(), options.Design, reduction);
            var mapped = inputs.Select(i => Map(i, replaced, fusedOutputs)).ToArray();
            var names = nodes.Select(m => m.Name).Concat(reduce is null ? [] : [reduce.Name]);
            var fusedAttrs = new FusedElementwiseAttrs(program, string.Join(", ", names));
            var types = FusionOps.FusedElementwise.InferType(fusedAttrs, mapped.Select(i => i.Type).ToArray());
            var last = reduce ?? nodes[^1];
            var fused = Node.Apply("fused_" + last.Name, FusionOps.FusedElementwise, fusedAttrs, mapped, types);
            int first = 0;
            if (reduce is not null) fusedOutputs[reduce] = fused[first++];
            for (int k = 0; k < materialised.Count; k++) fusedOutputs[materialised[k]] = fused[first + k];
        }
    }
}
