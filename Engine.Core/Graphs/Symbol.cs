using Engine.Graphs.MXNetJson;
using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// MXNet's Symbol: a list of outputs of a graph whose nodes are MXNet operators with string attributes. Symbols
/// are built with <see cref="Var"/> and the operator helpers (or read from JSON, or made from a traced block by
/// export), grouped, inspected (<see cref="ListArguments"/>, <see cref="GetInternals"/>), shape-inferred, and
/// written as MXNet 1.x symbol JSON.
/// </summary>
public sealed partial class Symbol
{
    private static readonly Dictionary<string, int> nameCounters = new(StringComparer.Ordinal);

    public Symbol(IReadOnlyList<SymbolEntry> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count == 0) throw new ArgumentException("symbol: needs at least one output.");
        Outputs = outputs.ToArray();
    }

    public IReadOnlyList<SymbolEntry> Outputs { get; }

    /// <summary>The node name of a single-output symbol (a variable's name, or <c>dense0_fwd</c>).</summary>
    public string Name => Outputs.Count == 1 ? Outputs[0].Node.Name
        : throw new InvalidOperationException($"symbol: a group of {Outputs.Count} outputs has no single name.");

    /// <summary>
    /// A variable (input or parameter); shape and dtype become <c>__shape__</c> and <c>__dtype__</c>.
    /// </summary>
    public static Symbol Var(string name, Shape? shape = null, DType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var attrs = new Dictionary<string, string>();
        if (shape is { } s) attrs["__shape__"] = Format.Tuple(s.ToArray());
        if (dtype is { } t) attrs["__dtype__"] = MXNetOps.DTypeCode(t).ToString();
        return new Symbol([new SymbolEntry(new SymbolNode("null", name, attrs, null), 0)]);
    }

    /// <summary>
    /// Applies MXNet operator <paramref name="op"/> (for example "FullyConnected") with string attributes to single
    /// output symbols. A null <paramref name="name"/> gets MXNet's automatic name: the lower-cased op and a counter.
    /// </summary>
    public static Symbol Create(string op, string? name, IReadOnlyDictionary<string, string>? attrs,
        params Symbol[] inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(op);
        MXNetOps.Require(op, name ?? op, "Symbol.Create");
        var entries = inputs.Select((s, i) => s?.Outputs.Count == 1 ? s.Outputs[0] : throw new ArgumentException(
            $"symbol: input {i} of {op} must be a single-output symbol, got " +
            $"{(s is null ? "null" : s.Outputs.Count + " outputs")}; index it first.")).ToArray();
        var node = new SymbolNode(op, name ?? AutoName(op), attrs, entries);
        return new Symbol(Enumerable.Range(0, node.NumVisibleOutputs).Select(i => new SymbolEntry(node, i)).ToList());
    }

    internal static string AutoName(string op)
    {
        string hint = op.TrimStart('_').ToLowerInvariant();
        if (op.StartsWith('_')) hint = "_" + hint;
        lock (nameCounters)
        {
            nameCounters.TryGetValue(hint, out int k);
            nameCounters[hint] = k + 1;
            return hint + k;
        }
    }

    /// <summary>One symbol whose outputs are those of <paramref name="symbols"/>, in order.</summary>
    public static Symbol Group(params Symbol[] symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        return new Symbol(symbols.SelectMany(s => s.Outputs).ToList());
    }

    public int Count => Outputs.Count;

    public Symbol this[int index] =>
        index >= 0 && index < Outputs.Count ? new Symbol([Outputs[index]]) : throw new ArgumentOutOfRangeException(
            nameof(index), $"symbol: output {index} does not exist; it has {Outputs.Count} outputs.");

    /// <summary>The output named <paramref name="outputName"/> (as ListOutputs prints it).</summary>
    public Symbol this[string outputName]
    {
        get
        {
            foreach (var o in Outputs)
            {
                if (o.Name == outputName) return new Symbol([o]);
            }
            throw new KeyNotFoundException(
                $"symbol: no output named '{outputName}'; outputs are {string.Join(", ", ListOutputs().Take(20))}" +
                (Outputs.Count > 20 ? ", ..." : "") + ".");
        }
    }

    /// <summary>Every node in MXNet's order: depth-first post-order from the outputs, inputs in order.</summary>
    public IReadOnlyList<SymbolNode> Nodes
    {
        get
        {
            var order = new List<SymbolNode>();
            var seen = new HashSet<SymbolNode>(ReferenceEqualityComparer.Instance);
            foreach (var o in Outputs)
            {
                if (!seen.Add(o.Node)) continue;
                var stack = new Stack<(SymbolNode Node, int Next)>();
                stack.Push((o.Node, 0));
                while (stack.Count > 0)
                {
                    var (node, next) = stack.Pop();
                    if (next < node.Inputs.Count)
                    {
                        stack.Push((node, next + 1));
                        var child = node.Inputs[next].Node;
                        if (seen.Add(child)) stack.Push((child, 0));
                    }
                    else
                    {
                        order.Add(node);
                    }
                }
            }
            return order;
        }
    }

    /// <summary>Every visible output of every node (variables included), named like <c>dense0_fwd_output</c>.</summary>
    public Symbol GetInternals() => new(Nodes.SelectMany(n => Enumerable.Range(0, n.NumVisibleOutputs)
        .Select(i => new SymbolEntry(n, i))).ToList());

    public IReadOnlyList<string> ListOutputs() => Outputs.Select(o => o.Name).ToList();

    /// <summary>Variables that are not auxiliary states, in node order (inputs and parameters).</summary>
    public IReadOnlyList<string> ListArguments()
    {
        var aux = AuxiliaryNodes();
        return Nodes.Where(n => n.IsVariable && !aux.Contains(n)).Select(n => n.Name).ToList();
    }

    /// <summary>Variables an operator mutates (BatchNorm's moving mean and variance).</summary>
    public IReadOnlyList<string> ListAuxiliaryStates()
    {
        var aux = AuxiliaryNodes();
        return Nodes.Where(aux.Contains).Select(n => n.Name).ToList();
    }

    /// <summary>Every variable, arguments and auxiliary states, in node order.</summary>
    public IReadOnlyList<string> ListInputs() => Nodes.Where(n => n.IsVariable).Select(n => n.Name).ToList();

    internal HashSet<SymbolNode> AuxiliaryNodes()
    {
        var aux = new HashSet<SymbolNode>(ReferenceEqualityComparer.Instance);
        foreach (var n in Nodes)
        {
            if (n.IsVariable) continue;
            foreach (int k in MXNetOps.MutatedInputs(n.Op))
            {
                if (k < n.Inputs.Count && n.Inputs[k].Node.IsVariable) aux.Add(n.Inputs[k].Node);
            }
        }
        return aux;
    }

    /// <summary>
    /// Shape inference from the shapes of some variables (the data): every argument, output and auxiliary shape,
    /// in the orders of ListArguments, ListOutputs and ListAuxiliaryStates. Parameter shapes come from their
    /// <c>__shape__</c> hint when complete, else from the operator that reads them (FullyConnected's weight is
    /// (num_hidden, in_units)).
    /// </summary>
    public (IReadOnlyList<Shape> Arguments, IReadOnlyList<Shape> Outputs, IReadOnlyList<Shape> Auxiliary)
        InferShape(IReadOnlyDictionary<string, Shape> shapes)
    {
        var (vars, outs) = Infer(shapes, null);
        return (ListArguments().Select(n => vars[n].Shape).ToList(), outs.Select(t => t.Shape).ToList(),
            ListAuxiliaryStates().Select(n => vars[n].Shape).ToList());
    }

    /// <summary>Dtype inference: as <see cref="InferShape"/>, from the data variables' shapes and dtypes.</summary>
    public (IReadOnlyList<DType> Arguments, IReadOnlyList<DType> Outputs, IReadOnlyList<DType> Auxiliary)
        InferType(IReadOnlyDictionary<string, Shape> shapes, IReadOnlyDictionary<string, DType> dtypes)
    {
        var (vars, outs) = Infer(shapes, dtypes);
        return (ListArguments().Select(n => vars[n].DType).ToList(), outs.Select(t => t.DType).ToList(),
            ListAuxiliaryStates().Select(n => vars[n].DType).ToList());
    }

    private (Dictionary<string, TensorType> Vars, List<TensorType> Outputs) Infer(
        IReadOnlyDictionary<string, Shape> shapes, IReadOnlyDictionary<string, DType>? dtypes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        var vars = new Dictionary<string, TensorType>(StringComparer.Ordinal);
        using var tracer = new Tracer("Symbol.InferShape");
        var outputs = new SymbolInterpreter(this, "symbol").Run((node, hint, like) =>
        {
            DType dtype = dtypes is not null && dtypes.TryGetValue(node.Name, out var d) ? d
                : MXNetOps.DTypeHint(node) ?? like?.DType ?? DType.Float32;
            Shape shape = shapes.TryGetValue(node.Name, out var s) ? s
                : MXNetOps.ShapeHint(node) ?? hint ?? throw new ArgumentException(
                    $"symbol: cannot infer the shape of variable '{node.Name}'; give it in the shapes, e.g. " +
                    $"{{ [\"{node.Name}\"] = new Shape(...) }}.");
            vars[node.Name] = new TensorType(shape, dtype);
            return tracer.Input(node.Name, shape, dtype, DefaultDevice.Current);
        });
        var types = outputs.Select(o => new TensorType(o.Shape, o.DType)).ToList();
        foreach (var n in ListInputs())
        {
            if (!vars.ContainsKey(n))
                throw new ArgumentException(
                    $"symbol: variable '{n}' is not used by any output, so its shape is unknown.");
        }
        return (vars, types);
    }

    /// <summary>MXNet 1.x symbol JSON (what <c>sym.tojson()</c> writes).</summary>
    public string ToJson() => SymbolJson.Write(this);

    /// <summary>Reads symbol JSON written by MXNet 0.8 to 1.9 (or by this engine).</summary>
    public static Symbol FromJson(string json, string source = "json") => SymbolJson.Read(json, source);

    public static Symbol Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"symbol file '{path}' does not exist.", path);
        return SymbolJson.Read(File.ReadAllText(path), path);
    }

    public void Save(string path) => File.WriteAllText(path, ToJson());

    public override string ToString() =>
        $"<Symbol {(Outputs.Count == 1 ? Outputs[0].Node.Name : "group [" + string.Join(", ", ListOutputs()) + "]")}>";
}
