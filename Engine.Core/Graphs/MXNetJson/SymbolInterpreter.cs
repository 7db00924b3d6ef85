using Engine.Kernels;
using Engine.Ops;

namespace Engine.Graphs.MXNetJson;

/// <summary>
/// Runs a <see cref="Symbol"/> with this engine's operators: each MXNet node becomes the Nd calls that compute
/// it (composed from several where this engine has no single operator, as for PReLU or SoftmaxOutput). Run
/// eagerly it computes; run under a <see cref="Tracer"/> it records a graph of this engine's OpDefs, which is how
/// an imported SymbolBlock hybridizes. The constructor checks every operator and attribute, naming the node, the
/// operator and the file of the first one it cannot import.
/// </summary>
public sealed partial class SymbolInterpreter
{
    private readonly Symbol symbol;
    private readonly string source;
    private readonly IReadOnlyList<SymbolNode> nodes;

    public SymbolInterpreter(Symbol symbol, string source)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        this.symbol = symbol;
        this.source = source;
        nodes = symbol.Nodes;
        foreach (var n in nodes)
        {
            if (n.IsVariable) continue;
            if (!Handlers.TryGetValue(n.Op, out var h)) throw MXNetOps.UnknownOp(n.Op, n.Name, source);
            foreach (var key in n.Attrs.Keys)
            {
                if (!MXNetOps.IsHint(key) && !h.Attributes.Contains(key))
                    throw new NotSupportedException(
                        $"{source}: node '{n.Name}' ({n.Op}) has attribute '{key}', which this engine does not know " +
                        $"for {n.Op} (known: {string.Join(", ", h.Attributes)}).");
            }
            if (h.Check is { } check)
            {
                try
                {
                    check(n);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
                {
                    throw new NotSupportedException($"{source}: {Describe(n)}: {e.Message}", e);
                }
            }
        }
    }

    public Symbol Symbol => symbol;

    /// <summary>
    /// Computes the symbol's outputs. <paramref name="variable"/> gives a variable's value the first time an
    /// operator reads it, with the shape that operator implies for it when it implies one (FullyConnected's
    /// weight), and the operator's data input (for its dtype and device).
    /// </summary>
    public NDArray[] Run(Func<SymbolNode, Shape?, NDArray?, NDArray> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var values = new Dictionary<SymbolNode, NDArray[]>(ReferenceEqualityComparer.Instance);
        var remaining = new Dictionary<SymbolNode, int>(ReferenceEqualityComparer.Instance);
        foreach (var n in nodes)
        {
            foreach (var i in n.Inputs) remaining[i.Node] = remaining.GetValueOrDefault(i.Node) + 1;
        }
        var kept = new HashSet<SymbolNode>(symbol.Outputs.Select(o => o.Node), ReferenceEqualityComparer.Instance);
        // Recording keeps what the tape saved; otherwise intermediates are freed after their last reader.
        bool free = !Autograd.IsRecording && Tracer.Current is null;
        foreach (var n in nodes)
        {
            if (n.IsVariable) continue;
            var h = Handlers[n.Op];
            var args = new NDArray[n.Inputs.Count];
            for (int k = 0; k < args.Length; k++)
            {
                var input = n.Inputs[k];
                if (!values.TryGetValue(input.Node, out var v))
                {
                    // Variables are resolved where first read, so an operator can imply their shapes.
                    Shape? hint = null;
                    if (h.ParameterShape is not null && k > 0 && args[0] is { } data)
                    {
                        try
                        {
                            hint = h.ParameterShape(n, k, data.Shape);
                        }
                        catch (Exception e) when (e is FormatException or ArgumentException)
                        {
                            throw new InvalidOperationException($"{source}: {Describe(n)}: {e.Message}", e);
                        }
                    }
                    v = [variable(input.Node, hint, k > 0 ? args[0] : null)];
                    values[input.Node] = v;
                }
                if (input.Index >= v.Length)
                    throw new InvalidOperationException(
                        $"{source}: {Describe(n)} reads output {input.Index} of '{input.Node.Name}', which this " +
                        $"engine does not compute (it computes {v.Length}).");
                args[k] = v[input.Index];
            }
            values[n] = Apply(n, h, args);
            if (!free) continue;
            foreach (var i in n.Inputs)
            {
                if (--remaining[i.Node] > 0 || i.Node.IsVariable || kept.Contains(i.Node)) continue;
                foreach (var a in values[i.Node]) a.Dispose();
            }
        }
        var result = new NDArray[symbol.Outputs.Count];
        for (int i = 0; i < result.Length; i++)
        {
            var o = symbol.Outputs[i];
            if (!values.TryGetValue(o.Node, out var v)) v = values[o.Node] = [variable(o.Node, null, null)];
            if (o.Index >= v.Length)
                throw new InvalidOperationException(
                    $"{source}: output {i} is output {o.Index} of '{o.Node.Name}', which this engine does not " +
                    "compute.");
            result[i] = v[o.Index];
        }
        if (free)
        {
            var outputs = new HashSet<NDArray>(result, ReferenceEqualityComparer.Instance);
            foreach (var o in symbol.Outputs.Select(o => o.Node).Distinct())
            {
                if (o.IsVariable) continue;
                foreach (var a in values[o]) if (!outputs.Contains(a)) a.Dispose();
            }
        }
        return result;
    }

    private NDArray[] Apply(SymbolNode n, Handler h, NDArray[] args)
    {
        if (h.Inputs is { } count && !count(n, args.Length))
            throw new InvalidOperationException(
                $"{source}: {Describe(n)} has {args.Length} inputs, which {n.Op} does not take here.");
        try
        {
            if (Tracer.Current is not null || Autograd.IsRecording) return h.Run(n, args);
            using var scope = NDArray.Scope();
            var result = h.Run(n, args);
            foreach (var r in result) scope.Keep(r);
            return result;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException)
        {
            throw new InvalidOperationException($"{source}: {Describe(n)}: {e.Message}", e);
        }
    }

    private static string Describe(SymbolNode n) => $"node '{n.Name}' ({n.Op})";

    /// <summary>How one MXNet operator is imported.</summary>
    internal sealed record Handler(string[] Attributes, Func<SymbolNode, NDArray[], NDArray[]> Run)
    {
        /// <summary>The shape an operator implies for its input k (a parameter) given its data's shape.</summary>
        public Func<SymbolNode, int, Shape, Shape?>? ParameterShape { get; init; }

        /// <summary>Whether a node may have this many inputs.</summary>
        public Func<SymbolNode, int, bool>? Inputs { get; init; }

        /// <summary>Checks the attribute values when the file is read (unsupported modes).</summary>
        public Action<SymbolNode>? Check { get; init; }
    }
}
