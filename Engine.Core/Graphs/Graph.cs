using System.Text;
using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// A dataflow graph: inputs, parameters (auxiliary states among them: those an operator mutates), captured
/// constants, operator nodes in topological order, and outputs. Printing is deterministic, so a printed graph
/// makes a golden file; <see cref="Verify"/> checks the invariants every pass must keep.
/// </summary>
public sealed class Graph
{
    public Graph(IReadOnlyList<Node> inputs, IReadOnlyList<NodeOutput> outputs, IReadOnlyList<Node>? parameters = null)
    {
        Inputs = inputs;
        Outputs = outputs;
        Nodes = TopologicalOrder(outputs, inputs, parameters ?? []);
        Parameters = parameters is null ? Nodes.Where(n => n.Kind == NodeKind.Parameter).ToList()
            : Nodes.Where(n => n.Kind == NodeKind.Parameter).Union(parameters).ToList();
        AuxiliaryStates = Parameters.Where(IsMutated).ToList();
    }

    public IReadOnlyList<Node> Inputs { get; }

    /// <summary>Every parameter, auxiliary states included, in the order they are first used.</summary>
    public IReadOnlyList<Node> Parameters { get; }

    /// <summary>Parameters an operator writes (batch norm's running statistics): MXNet's auxiliary states.</summary>
    public IReadOnlyList<Node> AuxiliaryStates { get; }

    public IReadOnlyList<NodeOutput> Outputs { get; }

    /// <summary>Every node reachable from the outputs, plus the inputs, in topological order.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    public IEnumerable<Node> Operators => Nodes.Where(n => n.Kind == NodeKind.Op);

    private bool IsMutated(Node parameter) => Nodes.Any(n => n.Op is { } op &&
        op.Mutates.Any(m => m < n.Inputs.Count && ReferenceEquals(n.Inputs[m].Node, parameter)));

    private static List<Node> TopologicalOrder(IReadOnlyList<NodeOutput> outputs, IReadOnlyList<Node> inputs,
        IReadOnlyList<Node> parameters)
    {
        var order = new List<Node>();
        var state = new Dictionary<Node, bool>(ReferenceEqualityComparer.Instance);
        foreach (var v in inputs.Concat(parameters)) Visit(v);
        foreach (var o in outputs) Visit(o.Node);
        return order;

        void Visit(Node root)
        {
            var stack = new Stack<(Node Node, int Next)>();
            if (state.ContainsKey(root)) return;
            state[root] = false;
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < node.Inputs.Count)
                {
                    stack.Push((node, next + 1));
                    var child = node.Inputs[next].Node;
                    if (state.TryGetValue(child, out bool done))
                    {
                        if (!done) throw new InvalidOperationException($"graph: cycle through node {child.Name}.");
                        continue;
                    }
                    state[child] = false;
                    stack.Push((child, 0));
                }
                else
                {
                    state[node] = true;
                    order.Add(node);
                }
            }
        }
    }

    /// <summary>
    /// Throws when an invariant is broken: names unique, edges in range, types consistent with the ops.
    /// </summary>
    public void Verify()
    {
        var names = new HashSet<string>();
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var n in Nodes)
        {
            if (!names.Add(n.Name)) throw new InvalidOperationException($"graph: two nodes are named '{n.Name}'.");
            foreach (var input in n.Inputs)
            {
                if (!seen.Contains(input.Node))
                    throw new InvalidOperationException(
                        $"graph: {n.Name} reads {input.Node.Name} before it is computed.");
                if (input.Index < 0 || input.Index >= input.Node.NumOutputs)
                    throw new InvalidOperationException(
                        $"graph: {n.Name} reads output {input.Index} of {input.Node.Name}, which has " +
                        $"{input.Node.NumOutputs}.");
            }
            if (n.Op is { } op)
            {
                if (op.NumInputs >= 0 && op.NumInputs != n.Inputs.Count)
                    throw new InvalidOperationException(
                        $"graph: {n.Name} applies {op.Name} to {n.Inputs.Count} inputs; it takes {op.NumInputs}.");
                var types = op.InferTypes(n.Attrs!, n.Inputs.Select(i => i.Type).ToArray());
                if (!types.SequenceEqual(n.OutputTypes))
                    throw new InvalidOperationException(
                        $"graph: {n.Name} records outputs {string.Join(", ", n.OutputTypes)} but {op.Name} gives " +
                        $"{string.Join(", ", types)}.");
            }
            seen.Add(n);
        }
        foreach (var o in Outputs)
        {
            if (!seen.Contains(o.Node)) throw new InvalidOperationException($"graph: output {o} is not in the graph.");
        }
    }

    /// <summary>One line per node: <c>%name = op[attrs](inputs) : types</c>, then the outputs.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var n in Nodes)
        {
            string types = string.Join(", ", n.OutputTypes.Select(t => t.ToString()));
            switch (n.Kind)
            {
                case NodeKind.Op:
                    var attrs = n.Attrs!.ToDictionary();
                    string a = attrs.Count == 0 ? "" : "[" + string.Join(", ",
                        attrs.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")) + "]";
                    string args = string.Join(", ", n.Inputs.Select(i => "%" + i));
                    sb.AppendLine($"%{n.Name} = {n.Op!.Name}{a}({args}) : {types}");
                    break;
                default:
                    sb.AppendLine($"%{n.Name} = {n.Kind.ToString().ToLowerInvariant()} : {types}");
                    break;
            }
        }
        sb.Append("return ").AppendJoin(", ", Outputs.Select(o => "%" + o));
        return sb.ToString();
    }
}
