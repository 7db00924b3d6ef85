using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// Attributes whose values a call draws from ambient state (dropout's random counters): a traced graph keeps the
/// traced value, and the executor asks for fresh values on every call.
/// </summary>
public interface IPerCallAttributes
{
    OpAttrs ForCall(TensorType[] inputs);
}

/// <summary>
/// Turns a run of ordinary NDArray code into a graph: while a tracer is current, every operator call on a symbolic
/// array (one with a shape and dtype but no data) adds a node instead of running a kernel, and returns symbolic
/// outputs. The same C# code that runs imperatively is traced, with no data; reading values from a symbolic array
/// (ToArray, a scalar, a comparison used in an <c>if</c>) throws an error naming the block being traced.
/// </summary>
public sealed class Tracer : IDisposable
{
    private static readonly AsyncLocal<Tracer?> current = new();
    private readonly Tracer? previous;
    private readonly List<Node> inputs = [];
    private readonly Dictionary<object, Node> parameters = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NDArray, Node> constants = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Node, string> createdIn = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, Node> lastIn = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> counters = new(StringComparer.Ordinal);
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Stack<string> scopes = new();
    private bool disposed;

    /// <param name="owner">The block being traced, named in errors.</param>
    public Tracer(string owner)
    {
        Owner = owner;
        previous = current.Value;
        current.Value = this;
        scopes.Push("");
    }

    /// <summary>The tracer of this async flow, or null when operators run eagerly.</summary>
    public static Tracer? Current => current.Value;

    public string Owner { get; }

    /// <summary>
    /// Runs eagerly inside a trace (parameter initialisation): operators compute instead of recording.
    /// </summary>
    public static IDisposable Suspend()
    {
        var saved = current.Value;
        current.Value = null;
        return new Restore(() => current.Value = saved);
    }

    /// <summary>A graph input of the given type, as a symbolic array.</summary>
    public NDArray Input(string name, Shape shape, DType dtype, Device device)
    {
        var node = Node.Input(Unique(name), new TensorType(shape, dtype));
        inputs.Add(node);
        return Symbolic(node[0], device);
    }

    /// <summary>
    /// The graph variable of a parameter whose current value is <paramref name="value"/>; the same variable every
    /// time it is asked for with the same <paramref name="binding"/>.
    /// </summary>
    public NDArray Parameter(string name, NDArray value, object binding)
    {
        if (!parameters.TryGetValue(binding, out var node))
        {
            node = Node.Parameter(Unique(name), new TensorType(value.Shape, value.DType), binding);
            parameters[binding] = node;
        }
        return Symbolic(node[0], value.Device);
    }

    /// <summary>
    /// Names the nodes created until the scope ends with <paramref name="prefix"/> (a block's prefix).
    /// </summary>
    public IDisposable NameScope(string prefix)
    {
        scopes.Push(prefix);
        return new Restore(() => scopes.Pop());
    }

    /// <summary>
    /// Renames the node behind <paramref name="output"/> to <c>prefix + "fwd"</c> when it was created directly in
    /// that scope, as MXNet names a layer's operator (<c>dense0_fwd</c>).
    /// </summary>
    public void NameOutput(NDArray output, string prefix)
    {
        if (output.Traced is not { } o || o.Node.Kind != NodeKind.Op) return;
        // The output's own operator when the block applied it; else (the output came from a child, as a Dense's
        // activation does) the last operator the block applied itself, as MXNet names the op written with
        // name='fwd' (dense0_fwd, then dense0_relu_fwd for the child).
        var node = createdIn.TryGetValue(o.Node, out var scope) && scope == prefix ? o.Node
            : lastIn.GetValueOrDefault(prefix);
        if (node is null) return;
        string name = prefix + "fwd";
        if (node.Name == name || !names.Add(name)) return;
        names.Remove(node.Name);
        node.Name = name;
    }

    /// <summary>
    /// Gives the node behind a symbolic array a chosen name (passes that rebuild a graph keep names).
    /// </summary>
    internal void Rename(NDArray value, string name)
    {
        if (value.Traced is not { } o || o.Node.Name == name || !names.Add(name)) return;
        names.Remove(o.Node.Name);
        o.Node.Name = name;
    }

    internal NDArray[] Record(OpDef op, OpAttrs attrs, NDArray[] arguments, NDArray[]? outputs)
    {
        if (outputs is not null)
            throw new NotSupportedException(
                $"{Owner}: {op.Name} writes into an existing array (out=, Assign, Fill), which cannot be " +
                "hybridized; build a new array instead, or call Hybridize(false).");
        var edges = new NodeOutput[arguments.Length];
        Device device = DefaultDevice.Current;
        for (int i = 0; i < arguments.Length; i++)
        {
            var x = arguments[i] ??
                throw new ArgumentNullException(nameof(arguments), $"{op.Name}: input {i} is null.");
            edges[i] = Edge(x);
            device = x.Device;
        }
        var types = op.InferTypes(attrs, edges.Select(e => e.Type).ToArray());
        string scope = scopes.Peek();
        var node = Node.Apply(Unique(scope + op.Name.TrimStart('_')), op, attrs, edges, types);
        createdIn[node] = scope;
        lastIn[scope] = node;
        var result = new NDArray[types.Length];
        for (int i = 0; i < result.Length; i++) result[i] = Symbolic(node[i], device);
        return result;
    }

    /// <summary>The graph of everything that leads to <paramref name="outputs"/>.</summary>
    public Graph Finish(IReadOnlyList<NDArray> outputs)
    {
        var heads = outputs.Select((y, i) => y.Traced ?? throw new InvalidOperationException(
            $"{Owner}: output {i} does not depend on the inputs or parameters (shape {y.Shape}); a hybridized block " +
            "must compute its outputs from them.")).ToList();
        return new Graph(inputs, heads, parameters.Values.ToList());
    }

    private NodeOutput Edge(NDArray x)
    {
        if (x.Traced is { } traced) return traced;
        x.ThrowIfNoData();
        if (!constants.TryGetValue(x, out var node))
        {
            node = Node.Constant(Unique(scopes.Peek() + "const"), x.UntrackedAlias());
            constants[x] = node;
        }
        return node[0];
    }

    private NDArray Symbolic(NodeOutput output, Device device)
    {
        var a = NDArray.ShapeOnly(output.Type.Shape, output.Type.DType, device,
            $"{Owner}: cannot read the values of '{output}' while the block is being hybridized: a traced array has " +
            "a shape but no data, so hybridized blocks cannot branch on data (ToArray, ToScalar, or a comparison " +
            "used in an if). Express the choice with Nd.Where, or call Hybridize(false) to run imperatively.");
        a.Traced = output;
        return a;
    }

    private string Unique(string name)
    {
        if (names.Add(name)) return name;
        counters.TryGetValue(name, out int k);
        string candidate;
        do candidate = $"{name}{k++}";
        while (!names.Add(candidate));
        counters[name] = k;
        return candidate;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        current.Value = previous;
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? action = action;

        public void Dispose()
        {
            action?.Invoke();
            action = null;
        }
    }
}
