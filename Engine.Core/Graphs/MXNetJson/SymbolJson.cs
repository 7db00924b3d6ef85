using System.Text;
using System.Text.Json;

namespace Engine.Graphs.MXNetJson;

/// <summary>
/// Reads and writes MXNet's symbol JSON. Writing follows MXNet 1.9: nodes in depth-first post-order with sorted
/// string attributes, arg_nodes, node_row_ptr, heads and attrs.mxnet_version. Reading accepts every 1.x file and
/// the older spellings: "attr" and "param" beside "attrs", two-element inputs, files without mxnet_version (0.8),
/// and pre-0.9 BatchNorm nodes without their auxiliary inputs. A file from MXNet 2.x is recognised and refused.
/// </summary>
public static class SymbolJson
{
    /// <summary>The version this engine writes: MXNet 1.9.1.</summary>
    public const int WrittenVersion = 10901;

    public static string Write(Symbol symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        var nodes = symbol.Nodes;
        var index = new Dictionary<SymbolNode, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < nodes.Count; i++) index[nodes[i]] = i;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("nodes");
            foreach (var n in nodes)
            {
                w.WriteStartObject();
                w.WriteString("op", n.Op);
                w.WriteString("name", n.Name);
                if (n.Attrs.Count > 0)
                {
                    w.WriteStartObject("attrs");
                    foreach (var (k, v) in n.Attrs.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                    w.WriteEndObject();
                }
                w.WriteStartArray("inputs");
                foreach (var e in n.Inputs) WriteEntry(w, index[e.Node], e.Index);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("arg_nodes");
            for (int i = 0; i < nodes.Count; i++) if (nodes[i].IsVariable) w.WriteNumberValue(i);
            w.WriteEndArray();
            w.WriteStartArray("node_row_ptr");
            int row = 0;
            w.WriteNumberValue(0);
            foreach (var n in nodes) w.WriteNumberValue(row += n.NumOutputs);
            w.WriteEndArray();
            w.WriteStartArray("heads");
            foreach (var o in symbol.Outputs) WriteEntry(w, index[o.Node], o.Index);
            w.WriteEndArray();
            w.WriteStartObject("attrs");
            w.WriteStartArray("mxnet_version");
            w.WriteStringValue("int");
            w.WriteNumberValue(WrittenVersion);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteEntry(Utf8JsonWriter w, int node, int index)
    {
        w.WriteStartArray();
        w.WriteNumberValue(node);
        w.WriteNumberValue(index);
        w.WriteNumberValue(0);
        w.WriteEndArray();
    }

    /// <summary>Parses symbol JSON; <paramref name="source"/> (the file) is named in every error.</summary>
    public static Symbol Read(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"{source}: not valid symbol JSON (truncated or corrupt?): {e.Message}", e);
        }
        using (doc)
        {
            try
            {
                return Read(doc.RootElement, source);
            }
            catch (InvalidOperationException e)
            {
                // JsonElement accessors throw InvalidOperationException on a wrong value kind.
                throw new InvalidDataException($"{source}: malformed symbol JSON: {e.Message}", e);
            }
        }
    }

    private static Symbol Read(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: symbol JSON must be an object with nodes and heads.");
        int version = Version(root, source);
        if (!root.TryGetProperty("nodes", out var nodesJson) || nodesJson.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{source}: symbol JSON has no \"nodes\" array; is this a symbol file?");
        if (!root.TryGetProperty("heads", out var headsJson) || headsJson.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{source}: symbol JSON has no \"heads\" array; is this a symbol file?");
        var nodes = new List<SymbolNode>();
        foreach (var nj in nodesJson.EnumerateArray())
        {
            int id = nodes.Count;
            string op = Required(nj, "op", id, source);
            string name = Required(nj, "name", id, source);
            var attrs = new Dictionary<string, string>(StringComparer.Ordinal);
            // Oldest first, so a newer spelling wins: param (0.8 defaults), attr (0.9-0.12), attrs (1.0+).
            foreach (var key in (string[])["param", "attr", "attrs"])
            {
                if (!nj.TryGetProperty(key, out var a) || a.ValueKind == JsonValueKind.Null) continue;
                foreach (var p in a.EnumerateObject())
                    attrs[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!
                        : p.Value.GetRawText();
            }
            if (attrs.ContainsKey("__profiler_scope__"))
                throw TwoX(source, $"node '{name}' carries __profiler_scope__, which only MXNet 2.x writes");
            if (nj.TryGetProperty("subgraphs", out var sub) && sub.ValueKind == JsonValueKind.Array &&
                sub.GetArrayLength() > 0)
                throw new NotSupportedException(
                    $"{source}: node '{name}' ({op}) has subgraphs (control flow or a fused op), which this engine " +
                    "cannot import.");
            var inputs = new List<SymbolEntry>();
            if (nj.TryGetProperty("inputs", out var ins))
            {
                foreach (var e in ins.EnumerateArray()) inputs.Add(Entry(e, nodes, $"node '{name}'", source));
            }
            if (version < 900 && op is "BatchNorm" && inputs.Count == 3)
            {
                // Before 0.9 the moving statistics were not graph nodes; MXNet's upgrader adds them like this.
                foreach (var aux in (string[])["moving_mean", "moving_var"])
                    inputs.Add(new SymbolEntry(new SymbolNode("null", $"{name}_{aux}", null, null), 0));
            }
            if (op == "null" && inputs.Count > 0)
                throw new InvalidDataException($"{source}: variable node {id} ('{name}') has inputs.");
            var node = new SymbolNode(op, name, attrs, op == "null" ? null : inputs);
            nodes.Add(node);
        }
        if (nodes.Count == 0) throw new InvalidDataException($"{source}: symbol JSON has no nodes.");
        var heads = headsJson.EnumerateArray().Select(e => Entry(e, nodes, "heads", source)).ToList();
        if (heads.Count == 0) throw new InvalidDataException($"{source}: symbol JSON has no heads (outputs).");
        return new Symbol(heads);
    }

    /// <summary>The writer's version (10901 for 1.9.1; 800 when absent, as MXNet reads such files).</summary>
    private static int Version(JsonElement root, string source)
    {
        int version = 800;
        if (root.TryGetProperty("attrs", out var attrs) && attrs.ValueKind == JsonValueKind.Object &&
            attrs.TryGetProperty("mxnet_version", out var v))
        {
            if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2 &&
                v[1].ValueKind == JsonValueKind.Number) version = v[1].GetInt32();
            else
                throw new InvalidDataException(
                    $"{source}: attrs.mxnet_version must be [\"int\", N], got {v.GetRawText()}.");
        }
        if (version >= 20000)
            throw TwoX(source, $"mxnet_version is {version / 10000}.{version / 100 % 100}.{version % 100}");
        return version;
    }

    private static NotSupportedException TwoX(string source, string why) =>
        new($"{source} was written by MXNet 2.x ({why}); this engine reads MXNet 0.8 to 1.9 symbol files. Export " +
            "the model with MXNet 1.x, or rebuild it in Gluon code and load its parameters.");

    private static string Required(JsonElement node, string key, int id, string source) =>
        node.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new InvalidDataException($"{source}: node {id} has no \"{key}\" string.");

    private static SymbolEntry Entry(JsonElement e, List<SymbolNode> nodes, string where, string source)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() is not (2 or 3) ||
            e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            throw new InvalidDataException(
                $"{source}: {where}: an entry must be [node, output] or [node, output, version], got " +
                $"{e.GetRawText()}.");
        int id = e[0].GetInt32(), index = e[1].GetInt32();
        if (id < 0 || id >= nodes.Count)
            throw new InvalidDataException(
                $"{source}: {where} reads node {id}, which is not an earlier node (there are {nodes.Count} before " +
                "it).");
        var node = nodes[id];
        if (index < 0 || index >= node.NumOutputs)
            throw new InvalidDataException(
                $"{source}: {where} reads output {index} of '{node.Name}' ({node.Op}), which has {node.NumOutputs}.");
        return new SymbolEntry(node, index);
    }
}
