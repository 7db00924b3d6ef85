using Engine.Graphs;
using Engine.Graphs.MXNetJson;
using Engine.IO;

namespace Engine.Gluon;

// Export to MXNet 1.x files and conversion to a Symbol.
public abstract partial class HybridBlock
{
    /// <summary>
    /// Writes <c>path-symbol.json</c> (MXNet 1.x symbol JSON) and <c>path-NNNN.params</c> (MXNet's .params with
    /// keys <c>arg:NAME</c> and <c>aux:NAME</c>) from the graph of the last hybridized call, as MXNet's export does.
    /// Returns the two file names.
    /// </summary>
    public (string SymbolFile, string ParamsFile) Export(string path, int epoch = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var graph = CachedGraph ?? throw new InvalidOperationException(
            $"{Name}: Please first call block.hybridize() and then run forward with this block at least once " +
            "before calling export.");
        var result = ToSymbolResult(graph);
        var aux = result.Symbol.ListAuxiliaryStates().ToHashSet(StringComparer.Ordinal);
        var arrays = new List<KeyValuePair<string, NDArray>>();
        var used = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph.Parameters)
        {
            if (n.Binding is not Parameter p) continue;
            used.Add(p);
            arrays.Add(new((aux.Contains(n.Name) ? "aux:" : "arg:") + n.Name, p.Data()));
        }
        arrays.AddRange(result.Constants.Select(c => new KeyValuePair<string, NDArray>("arg:" + c.Key, c.Value)));
        foreach (var p in CollectParams().Values)
        {
            if (!used.Contains(p))
                Warnings.Warn($"Parameter {p.Name} is not used by any computation. Is this intended?");
        }
        string symbolFile = $"{path}-symbol.json";
        string paramsFile = $"{path}-{epoch:D4}.params";
        string? dir = Path.GetDirectoryName(Path.GetFullPath(symbolFile));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(symbolFile, result.Symbol.ToJson());
        MXNetParams.Save(paramsFile, arrays);
        return (symbolFile, paramsFile);
    }

    /// <summary>
    /// This block as an MXNet symbol, traced over inputs of the given shapes (float32): MXNet's
    /// <c>net(mx.sym.var('data'))</c>. Parameters must be initialised; deferred shapes are inferred.
    /// </summary>
    public Symbol ToSymbol(params Shape[] inputShapes)
    {
        ArgumentNullException.ThrowIfNull(inputShapes);
        if (inputShapes.Length == 0) throw new ArgumentException($"{Name}: give the shape of each input.");
        var dummies = inputShapes.Select(s => Nd.Zeros(s)).ToArray();
        try
        {
            return ToSymbolResult(Trace(dummies)).Symbol;
        }
        finally
        {
            foreach (var d in dummies) d.Dispose();
        }
    }

    private static GraphExport.Result ToSymbolResult(Graph graph) => GraphExport.ToSymbol(graph, n =>
    {
        var attrs = GraphExport.TypeAttributes(n.OutputTypes[0]);
        if (n.Binding is Parameter p)
        {
            attrs["__lr_mult__"] = MXNetOps.Number(p.LrMult);
            attrs["__wd_mult__"] = MXNetOps.Number(p.WdMult);
            attrs["__storage_type__"] = "0";
        }
        return attrs;
    });
}
