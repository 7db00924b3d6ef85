using System.Globalization;

namespace Engine.Graphs.MXNetJson;

/// <summary>
/// Parses MXNet's string attributes as every 1.x and older writer spelled them: tuples "(3, 3)", "[3, 3]", "3",
/// "(3L, 3L)", "()", "None"; booleans "True", "False", "true", "1", "0"; floats "1e-05"; "None" for unset.
/// </summary>
internal static class Attribute
{
    public static string? Raw(SymbolNode node, string key) =>
        node.Attrs.TryGetValue(key, out var v) && v != "None" ? v : null;

    public static string String(SymbolNode node, string key, string fallback) => Raw(node, key) ?? fallback;

    public static bool Bool(SymbolNode node, string key, bool fallback)
    {
        var v = Raw(node, key);
        return v switch
        {
            null => fallback,
            "True" or "true" or "1" => true,
            "False" or "false" or "0" => false,
            _ => throw Bad(node, key, v, "a boolean (True or False)"),
        };
    }

    public static int Int(SymbolNode node, string key, int fallback)
    {
        var v = Raw(node, key);
        if (v is null) return fallback;
        v = v.TrimEnd('L');
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r
            : throw Bad(node, key, v, "an integer");
    }

    public static int RequiredInt(SymbolNode node, string key) =>
        Raw(node, key) is null ? throw Missing(node, key) : Int(node, key, 0);

    public static double Double(SymbolNode node, string key, double fallback)
    {
        var v = Raw(node, key);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) ? r
            : v switch
            {
                "inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                _ => throw Bad(node, key, v, "a number"),
            };
    }

    public static double RequiredDouble(SymbolNode node, string key) =>
        Raw(node, key) is null ? throw Missing(node, key) : Double(node, key, 0);

    public static int[]? Tuple(SymbolNode node, string key) =>
        Raw(node, key) is { } v ? ParseTuple(v, node, key) : null;

    public static int[] RequiredTuple(SymbolNode node, string key) => Tuple(node, key) ?? throw Missing(node, key);

    /// <summary>A tuple whose entries may be None (slice's begin and end): None becomes null.</summary>
    public static int?[]? OptionalTuple(SymbolNode node, string key)
    {
        if (Raw(node, key) is not { } v) return null;
        return Items(v).Select(s => s == "None" ? (int?)null : ParseInt(s, node, key, v)).ToArray();
    }

    public static int[]? ParseTuple(string text, SymbolNode node, string key) =>
        text == "None" ? null : Items(text).Select(s => ParseInt(s, node, key, text)).ToArray();

    private static IEnumerable<string> Items(string text)
    {
        string t = text.Trim();
        if ((t.StartsWith('(') && t.EndsWith(')')) || (t.StartsWith('[') && t.EndsWith(']'))) t = t[1..^1];
        return t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }

    private static int ParseInt(string s, SymbolNode node, string key, string whole) =>
        int.TryParse(s.TrimEnd('L'), NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r
            : throw Bad(node, key, whole, "a tuple of integers such as (3, 3)");

    private static FormatException Bad(SymbolNode node, string key, string value, string expected) =>
        new($"node '{node.Name}' ({node.Op}): attribute {key}=\"{value}\" is not {expected}.");

    private static FormatException Missing(SymbolNode node, string key) =>
        new($"node '{node.Name}' ({node.Op}): the required attribute '{key}' is missing.");
}
