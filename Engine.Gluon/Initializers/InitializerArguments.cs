using System.Text.Json;

namespace Engine.Gluon.Initializers;

/// <summary>Reads the keyword arguments of an initializer's JSON form, checking names and types.</summary>
internal sealed class InitializerArguments(string initializer, Dictionary<string, JsonElement> args, string source)
{
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    /// <summary>A number argument, or <paramref name="fallback"/> when absent (required when null).</summary>
    public double Double(string key, double? fallback)
    {
        used.Add(key);
        if (!args.TryGetValue(key, out var v))
            return fallback ?? throw new ArgumentException(
                $"Initializer.Create: {initializer} needs the argument '{key}', which '{source}' lacks.");
        if (v.ValueKind != JsonValueKind.Number)
            throw new ArgumentException(
                $"Initializer.Create: {initializer}'s argument '{key}' must be a number, got {v.GetRawText()} in " +
                $"'{source}'.");
        return v.GetDouble();
    }

    /// <summary>A string argument naming an enum member (case-insensitive: "gaussian", "avg").</summary>
    public T Enum<T>(string key, T fallback) where T : struct, System.Enum
    {
        used.Add(key);
        if (!args.TryGetValue(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.String && System.Enum.TryParse<T>(v.GetString(), true, out var value)
            && System.Enum.IsDefined(value))
            return value;
        throw new ArgumentException(
            $"Initializer.Create: {initializer}'s argument '{key}' is {v.GetRawText()} in '{source}'; expected one " +
            $"of {string.Join(", ", System.Enum.GetNames<T>().Select(n => $"\"{n.ToLowerInvariant()}\""))}.");
    }

    /// <summary>Throws if the text has arguments the initializer does not take (Python's TypeError).</summary>
    public void ThrowIfUnused()
    {
        var extra = args.Keys.Where(k => !used.Contains(k)).ToList();
        if (extra.Count > 0)
            throw new ArgumentException(
                $"Initializer.Create: {initializer} takes no argument " +
                $"{string.Join(", ", extra.Select(k => $"'{k}'"))} (in '{source}'); its arguments are " +
                $"{(used.Count == 0 ? "none" : string.Join(", ", used.Select(k => $"'{k}'")))}.");
    }
}
