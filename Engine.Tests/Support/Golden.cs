using System.Text.Json;
using Engine.IO;

namespace Engine.Tests.Support;

/// <summary>One case produced by a tools/golden script: named arrays plus the attributes as JSON.</summary>
public sealed class GoldenCase
{
    public GoldenCase(string name, IReadOnlyDictionary<string, NpyArray> arrays, JsonElement attrs)
    {
        Name = name;
        Arrays = arrays;
        Attrs = attrs;
    }

    public string Name { get; }

    public IReadOnlyDictionary<string, NpyArray> Arrays { get; }

    public JsonElement Attrs { get; }

    public NpyArray this[string key] => Arrays.TryGetValue(key, out var a)
        ? a : throw new KeyNotFoundException($"golden case {Name} has no array '{key}'");

    public override string ToString() => Name;
}

/// <summary>Loads Engine.Tests/Golden/FAMILY/*.npz (written by tools/golden/*.py with PyTorch).</summary>
public static class Golden
{
    public static IEnumerable<string> CaseNames(string family)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Golden", family);
        if (!System.IO.Directory.Exists(dir)) return [];
        return System.IO.Directory.GetFiles(dir, "*.npz").Select(Path.GetFileNameWithoutExtension).Order()!;
    }

    public static GoldenCase Load(string family, string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", family, name + ".npz");
        var arrays = NpyFile.ReadArchive(path);
        JsonElement attrs = default;
        if (arrays.Remove("__attrs__", out var a))
            attrs = JsonDocument.Parse(a.Data).RootElement.Clone();
        return new GoldenCase(name, arrays, attrs);
    }
}
