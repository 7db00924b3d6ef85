namespace Engine.Graphs;

/// <summary>One output of a symbol node (MXNet's graph entry).</summary>
public readonly record struct SymbolEntry(SymbolNode Node, int Index)
{
    /// <summary>MXNet's output name: <c>dense0_fwd_output</c>, <c>bn0_mean</c>, or the variable's own name.</summary>
    public string Name => Node.IsVariable ? Node.Name : Node.Name + "_" + MXNetJson.MXNetOps.OutputName(Node, Index);
}

/// <summary>
/// A node of a <see cref="Symbol"/>: an MXNet operator name with MXNet's string attributes and its inputs, or a
/// variable (op <c>"null"</c>). This is the level at which symbol JSON is read and written; a symbol becomes a
/// graph of this engine's operators when it runs (see <see cref="MXNetJson.SymbolInterpreter"/>).
/// </summary>
public sealed class SymbolNode
{
    public SymbolNode(string op, string name, IReadOnlyDictionary<string, string>? attrs,
        IReadOnlyList<SymbolEntry>? inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(op);
        ArgumentNullException.ThrowIfNull(name);
        Op = op;
        Name = name;
        Attrs = attrs is null ? new SortedDictionary<string, string>(StringComparer.Ordinal)
            : new SortedDictionary<string, string>(attrs.ToDictionary(kv => kv.Key, kv => kv.Value),
                StringComparer.Ordinal);
        Inputs = inputs?.ToArray() ?? [];
        if (IsVariable && Inputs.Count > 0)
            throw new ArgumentException($"symbol: variable '{name}' cannot have inputs.");
    }

    /// <summary>MXNet's operator name, or <c>"null"</c> for a variable.</summary>
    public string Op { get; }

    public string Name { get; }

    /// <summary>String attributes, sorted by key as MXNet writes them.</summary>
    public IReadOnlyDictionary<string, string> Attrs { get; }

    public IReadOnlyList<SymbolEntry> Inputs { get; }

    public bool IsVariable => Op == "null";

    /// <summary>All outputs, hidden ones included (BatchNorm has 3, of which 1 is visible).</summary>
    public int NumOutputs => MXNetJson.MXNetOps.Outputs(this).Total;

    /// <summary>The outputs a symbol lists (MXNet's FNumVisibleOutputs).</summary>
    public int NumVisibleOutputs => MXNetJson.MXNetOps.Outputs(this).Visible;

    public override string ToString() => IsVariable ? Name : $"{Name} ({Op})";
}
