using System.Globalization;

namespace Engine.Graphs.MXNetJson;

/// <summary>
/// What this engine knows about MXNet 1.x operators as they appear in symbol JSON: how many outputs each has
/// (hidden ones included) and their names, which inputs it mutates (auxiliary states), the shapes of the
/// parameters it reads, and how its string attributes are spelled.
/// </summary>
public static class MXNetOps
{
    /// <summary>
    /// Keys that may appear on any node and carry no operator meaning (MXNet upgrades them to __x__).
    /// </summary>
    private static readonly HashSet<string> HiddenKeys =
        ["ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage"];

    public static bool IsSupported(string op) => SymbolInterpreter.Handlers.ContainsKey(op);

    /// <summary>Every operator name (aliases included) that import understands, sorted.</summary>
    public static IReadOnlyList<string> Supported =>
        SymbolInterpreter.Handlers.Keys.Order(StringComparer.Ordinal).ToList();

    internal static void Require(string op, string node, string source)
    {
        if (op == "null" || IsSupported(op)) return;
        throw UnknownOp(op, node, source);
    }

    internal static NotSupportedException UnknownOp(string op, string node, string source) =>
        new($"{source}: node '{node}' uses operator '{op}', which this engine cannot import; docs/hybridize.md " +
            $"lists the {Supported.Count} operator names it can (MXNetOps.Supported gives them) and those it lacks.");

    /// <summary>(all outputs, visible outputs) of a node, as MXNet counts them (node_row_ptr, ListOutputs).</summary>
    public static (int Total, int Visible) Outputs(SymbolNode node) => node.Op switch
    {
        "null" => (1, 1),
        "BatchNorm" or "BatchNorm_v1" or "SyncBatchNorm" or "_contrib_SyncBatchNorm" =>
            (3, Attribute.Bool(node, "output_mean_var", false) ? 3 : 1),
        "LayerNorm" or "InstanceNorm" or "GroupNorm" => (3, Attribute.Bool(node, "output_mean_var", false) ? 3 : 1),
        "Dropout" or "LRN" => (2, 1),
        "LeakyReLU" => Attribute.String(node, "act_type", "leaky") == "rrelu" ? (2, 1) : (1, 1),
        "RNN" => RnnOutputs(node) is var n ? (n, n) : default,
        "SliceChannel" or "split" => (Attribute.Int(node, "num_outputs", 1), Attribute.Int(node, "num_outputs", 1)),
        _ => (1, 1),
    };

    /// <summary>The RNN op's outputs: the sequence, and with state_outputs the final state (and cell, LSTM).</summary>
    private static int RnnOutputs(SymbolNode node) =>
        !Attribute.Bool(node, "state_outputs", false) ? 1 : Attribute.String(node, "mode", "") == "lstm" ? 3 : 2;

    /// <summary>The name of output <paramref name="index"/>: MXNet's FListOutputNames, else outputN.</summary>
    public static string OutputName(SymbolNode node, int index)
    {
        string[]? names = node.Op switch
        {
            "BatchNorm" or "BatchNorm_v1" or "SyncBatchNorm" or "_contrib_SyncBatchNorm" => ["output", "mean", "var"],
            "LayerNorm" or "InstanceNorm" or "GroupNorm" => ["output", "mean", "std"],
            "Dropout" or "LeakyReLU" => ["output", "mask"],
            "LRN" => ["output", "tmp_norm"],
            "RNN" => ["output", "state_output", "statecell_output"],
            _ => null,
        };
        if (names is not null && index < names.Length) return names[index];
        return node.NumOutputs == 1 ? "output" : "output" + index;
    }

    /// <summary>Inputs an operator writes (MXNet's FMutateInputs): the auxiliary states.</summary>
    public static IReadOnlyList<int> MutatedInputs(string op) => op switch
    {
        "BatchNorm" or "BatchNorm_v1" or "SyncBatchNorm" or "_contrib_SyncBatchNorm" => [3, 4],
        _ => [],
    };

    /// <summary>Whether an attribute is a hint with no operator meaning (__shape__, lr_mult, weight_lr_mult).</summary>
    internal static bool IsHint(string key) =>
        (key.StartsWith("__", StringComparison.Ordinal) && key.EndsWith("__", StringComparison.Ordinal)) ||
        HiddenKeys.Contains(key) || HiddenKeys.Any(h => key.EndsWith("_" + h, StringComparison.Ordinal));

    /// <summary>The mshadow type code MXNet writes in <c>__dtype__</c> (0 float32, 1 float64, ...).</summary>
    public static int DTypeCode(DType dtype) => (int)dtype;

    /// <summary>A variable's <c>__shape__</c> when it is complete (0 or -1 mean unknown, so then null).</summary>
    internal static Shape? ShapeHint(SymbolNode node)
    {
        if (!node.Attrs.TryGetValue("__shape__", out var text)) return null;
        var dims = Attribute.ParseTuple(text, node, "__shape__");
        if (dims is null || dims.Length == 0 || dims.Any(d => d <= 0)) return null;
        return new Shape(dims);
    }

    /// <summary>The dtype a variable node declares (its __dtype__ hint), or null when it declares none.</summary>
    public static DType? DTypeHint(SymbolNode node)
    {
        if (!node.Attrs.TryGetValue("__dtype__", out var text)) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int code) &&
               Enum.IsDefined(typeof(DType), code) ? (DType)code : null;
    }

    /// <summary>Python's str() of a float: 1e-05, 0.9, 1.0.</summary>
    public static string Number(double v) => Ops.Format.Number(v).Replace('E', 'e');
}
