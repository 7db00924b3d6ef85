using System.Globalization;

namespace Engine.Ops;

/// <summary>Formats attribute values the way MXNet writes them in symbol JSON (Python's str()).</summary>
public static class Format
{
    public static string Number(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e15 ? v.ToString("0.0", CultureInfo.InvariantCulture)
            : v.ToString("R", CultureInfo.InvariantCulture);

    public static string Bool(bool v) => v ? "True" : "False";

    public static string Tuple(IEnumerable<int> values)
    {
        var list = values.ToList();
        return list.Count == 1 ? $"({list[0]},)" : $"({string.Join(", ", list)})";
    }
}
