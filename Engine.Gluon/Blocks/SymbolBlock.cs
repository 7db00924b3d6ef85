using Engine.Graphs;
using Engine.Graphs.MXNetJson;
using Engine.IO;

namespace Engine.Gluon;

/// <summary>
/// A block built from a <see cref="Symbol"/> (MXNet's SymbolBlock): files exported by MXNet 0.8 to 1.9 or by this
/// engine (<see cref="Imports"/>), or any symbol and its inputs, such as an internal output of another network
/// (<c>net.ToSymbol(...).GetInternals()["..._output"]</c>) for feature extraction. It runs imperatively, or as one
/// traced graph of this engine's operators when hybridized, alone or nested in another HybridBlock.
/// </summary>
public sealed class SymbolBlock : HybridBlock
{
    private readonly SymbolInterpreter interpreter;
    private readonly string[] inputNames;
    private readonly Dictionary<string, Parameter> byName = new(StringComparer.Ordinal);
    private readonly HashSet<string> labels = new(StringComparer.Ordinal);

    /// <summary>
    /// A block computing <paramref name="outputs"/> from the variables <paramref name="inputs"/>; every other
    /// variable is a parameter, taken from <paramref name="params"/> when it holds one of that name, else created
    /// (its shape inferred on the first call, from <c>__shape__</c> or from the operator that reads it).
    /// </summary>
    public SymbolBlock(Symbol outputs, IReadOnlyList<Symbol> inputs, ParameterDict? @params = null)
        : this(outputs, inputs, @params, "symbol") { }

    public SymbolBlock(Symbol outputs, Symbol input, ParameterDict? @params = null)
        : this(outputs, [input], @params, "symbol") { }

    private SymbolBlock(Symbol outputs, IReadOnlyList<Symbol> inputs, ParameterDict? @params, string source,
        IReadOnlyDictionary<string, NDArray>? loaded = null)
        : base(prefix: "")
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("SymbolBlock: give at least one input variable.");
        foreach (var s in inputs)
        {
            if (s is null || s.Outputs.Count != 1 || !s.Outputs[0].Node.IsVariable)
                throw new ArgumentException(
                    "Input symbols must be variable, but " +
                    $"{(s is null ? "null" : string.Join(", ", s.ListOutputs()))} " +
                    "is an output of operators.");
        }
        interpreter = new SymbolInterpreter(outputs, source);
        inputNames = inputs.Select(s => s.Outputs[0].Node.Name).ToArray();
        var known = outputs.ListInputs().ToHashSet(StringComparer.Ordinal);
        foreach (var n in inputNames)
        {
            if (!known.Contains(n))
                throw new ArgumentException(
                    $"SymbolBlock: input '{n}' is not a variable of the symbol; its variables are " +
                    $"{string.Join(", ", known.Take(10))}{(known.Count > 10 ? ", ..." : "")}.");
        }
        FindLabels(outputs);
        var aux = outputs.ListAuxiliaryStates().ToHashSet(StringComparer.Ordinal);
        foreach (var node in outputs.Nodes.Where(n => n.IsVariable && !inputNames.Contains(n.Name)))
        {
            if (labels.Contains(node.Name) && loaded?.ContainsKey(node.Name) != true) continue;
            Parameter p;
            if (@params is not null && @params.TryGet(node.Name, out var shared))
            {
                p = shared;
                Params.Add(p);
            }
            else
            {
                Shape? shape = loaded is not null && loaded.TryGetValue(node.Name, out var v) ? v.Shape
                    : HintShape(node);
                DType dtype = loaded is not null && loaded.TryGetValue(node.Name, out var lv) ? lv.DType
                    : MXNetOps.DTypeHint(node) ?? DType.Float32;
                bool isAux = aux.Contains(node.Name);
                p = Params.Get(node.Name, shape, dtype: dtype, gradReq: isAux ? GradReq.Null : GradReq.Write,
                    allowDeferredInit: true, differentiable: !isAux);
            }
            byName[node.Name] = p;
        }
    }

    /// <summary>The symbol this block computes.</summary>
    public Symbol Symbol => interpreter.Symbol;

    /// <summary>The names of the input variables, in call order.</summary>
    public IReadOnlyList<string> InputNames => inputNames;

    /// <summary>
    /// Loads <paramref name="symbolFile"/> (MXNet 0.8 to 1.9 symbol JSON) and, when given,
    /// <paramref name="paramFile"/> (.params with arg:/aux: keys, or plain names), onto <paramref name="device"/>.
    /// </summary>
    public static SymbolBlock Imports(string symbolFile, IReadOnlyList<string> inputNames, string? paramFile = null,
        Device? device = null, bool allowMissing = false, bool ignoreExtra = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(symbolFile);
        ArgumentNullException.ThrowIfNull(inputNames);
        var symbol = Symbol.Load(symbolFile);
        Dictionary<string, NDArray>? loaded = null;
        if (paramFile is not null)
        {
            if (!File.Exists(paramFile))
                throw new FileNotFoundException($"SymbolBlock.Imports: parameter file '{paramFile}' does not exist.",
                    paramFile);
            loaded = new Dictionary<string, NDArray>(StringComparer.Ordinal);
            foreach (var (key, value) in MXNetParams.Load(paramFile))
            {
                string name = key.StartsWith("arg:", StringComparison.Ordinal) ||
                              key.StartsWith("aux:", StringComparison.Ordinal) ? key[4..] : key;
                loaded[name] = value;
            }
        }
        var block = new SymbolBlock(symbol, inputNames.Select(n => Symbol.Var(n)).ToList(), null, symbolFile, loaded);
        if (loaded is not null)
            block.Load(loaded, paramFile!, device ?? DefaultDevice.Current, allowMissing, ignoreExtra);
        return block;
    }

    private void Load(Dictionary<string, NDArray> loaded, string file, Device device, bool allowMissing,
        bool ignoreExtra)
    {
        foreach (var (name, value) in loaded)
        {
            if (byName.TryGetValue(name, out var p))
            {
                try
                {
                    p.Shape = value.Shape;
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"{file}: {e.Message}", e);
                }
                using var moved = value.Device == device ? null : value.CopyTo(device);
                p.SetData(moved ?? value);
            }
            else if (!ignoreExtra && !inputNames.Contains(name) && !labels.Contains(name))
            {
                throw new InvalidDataException(
                    $"Parameter '{name}' loaded from file '{file}' is not present in ParameterDict, which contains " +
                    $"parameters {string.Join(", ", byName.Keys.Take(8))}{(byName.Count > 8 ? ", ..." : "")}. " +
                    "Set ignoreExtra: true to ignore.");
            }
        }
        foreach (var v in loaded.Values) v.Dispose();
        var missing = byName.Keys.Where(k => !loaded.ContainsKey(k)).ToList();
        if (missing.Count > 0 && !allowMissing)
            throw new InvalidDataException(
                $"Parameter '{missing[0]}' is missing in file '{file}'" +
                (missing.Count > 1 ? $" (and {missing.Count - 1} more)" : "") +
                ". Set allowMissing: true to ignore missing parameters, then initialize them.");
    }

    public override NDArray Forward(NDArray x) => ForwardMany([x])[0];

    public override NDArray[] ForwardMany(NDArray[] inputs)
    {
        if (inputs.Length != inputNames.Length)
            throw new ArgumentException(
                $"SymbolBlock: takes {inputNames.Length} inputs ({string.Join(", ", inputNames)}), got " +
                $"{inputs.Length}.");
        return interpreter.Run((node, hint, like) =>
        {
            int k = Array.IndexOf(inputNames, node.Name);
            if (k >= 0) return inputs[k];
            if (byName.TryGetValue(node.Name, out var p))
            {
                if (p.IsDeferred)
                {
                    var shape = hint ?? throw new InvalidOperationException(
                        $"SymbolBlock: the shape of parameter '{p.Name}' cannot be inferred; load it from a file " +
                        "or give __shape__.");
                    p.FinishDeferredInit(shape);
                }
                return p.Data();
            }
            // A label variable (SoftmaxOutput's) is not read at inference.
            return Nd.Zeros(new Shape(1), like?.DType ?? DType.Float32, like?.Device ?? inputs[0].Device);
        });
    }

    private void FindLabels(Symbol symbol)
    {
        var readers = new Dictionary<SymbolNode, List<(SymbolNode Node, int Slot)>>(ReferenceEqualityComparer.Instance);
        foreach (var n in symbol.Nodes)
        {
            for (int k = 0; k < n.Inputs.Count; k++)
            {
                var v = n.Inputs[k].Node;
                if (!v.IsVariable) continue;
                if (!readers.TryGetValue(v, out var list)) readers[v] = list = [];
                list.Add((n, k));
            }
        }
        foreach (var (v, list) in readers)
        {
            if (list.All(r => r.Node.Op is "SoftmaxOutput" or "Softmax" && r.Slot == 1)) labels.Add(v.Name);
        }
    }

    private static Shape? HintShape(SymbolNode node)
    {
        if (!node.Attrs.TryGetValue("__shape__", out var text)) return null;
        var dims = text.Trim('(', ')', '[', ']').Split(',', StringSplitOptions.TrimEntries |
            StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s.TrimEnd('L'), out int d) ? Math.Max(d, 0) : 0).ToArray();
        return dims.Length == 0 ? (Shape?)null : new Shape(dims);
    }

    public override string ToString() =>
        $"SymbolBlock(\n{Symbol} : {inputNames.Length} -> {Symbol.Outputs.Count}\n)";
}
