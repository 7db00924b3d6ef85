using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Engine.Gluon.Initializers;

/// <summary>
/// MXNet's <c>json.dumps([name, kwargs])</c> form of an initializer, written with Python's spelling (", " and
/// ": " separators, floats as Python's repr: 0.07, 1.0, 1e-05) and read back.
/// </summary>
internal static class InitializerJson
{
    public static string Dumps(string name, IReadOnlyList<KeyValuePair<string, object>> arguments)
    {
        var sb = new StringBuilder("[");
        AppendString(sb, name);
        sb.Append(", {");
        for (int i = 0; i < arguments.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            AppendString(sb, arguments[i].Key);
            sb.Append(": ");
            switch (arguments[i].Value)
            {
                case string s: AppendString(sb, s); break;
                case double d: sb.Append(PythonFloat(d)); break;
                case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case var v: throw new NotSupportedException($"Initializer.Dumps: cannot write a {v.GetType().Name}.");
            }
        }
        return sb.Append("}]").ToString();
    }

    /// <summary>Parses <c>["name", {kwargs}]</c>; errors quote the text.</summary>
    public static (string Name, Dictionary<string, JsonElement> Arguments) Parse(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() is not (1 or 2)
                || root[0].ValueKind != JsonValueKind.String
                || (root.GetArrayLength() == 2 && root[1].ValueKind != JsonValueKind.Object))
                throw new ArgumentException(
                    $"Initializer.Create: '{text}' is not an initializer's JSON form; expected " +
                    "[\"name\", {\"argument\": value, ...}], as Initializer.Dumps writes it.", "init");
            var args = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (root.GetArrayLength() == 2)
            {
                foreach (var p in root[1].EnumerateObject()) args[p.Name] = p.Value.Clone();
            }
            return (root[0].GetString()!, args);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Initializer.Create: '{text}' is not valid JSON: {e.Message}", "init",
                e);
        }
    }

    /// <summary>Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 or from 1e16.</summary>
    public static string PythonFloat(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        string sign = value < 0 || (value == 0 && double.IsNegative(value)) ? "-" : "";
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E');
        int exponent = e < 0 ? 0 : int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? r : r[..e];
        int dot = mantissa.IndexOf('.');
        string whole = dot < 0 ? mantissa : mantissa[..dot];
        string digits = whole + (dot < 0 ? "" : mantissa[(dot + 1)..]);
        // value = 0.digits * 10^point once leading zeros are dropped.
        int point = whole.Length + exponent;
        int leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        point -= leading;
        if (digits.Length == 0) return sign + "0.0";
        string body;
        if (point > -4 && point <= 16)
        {
            if (point <= 0) body = "0." + new string('0', -point) + digits;
            else if (point >= digits.Length) body = digits + new string('0', point - digits.Length) + ".0";
            else body = digits[..point] + "." + digits[point..];
        }
        else
        {
            int exp = point - 1;
            body = digits[..1] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + (exp < 0 ? "-" : "+")
                + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        return sign + body;
    }

    private static void AppendString(StringBuilder sb, string s)
    {
        // Python's json.dumps escapes like this with ensure_ascii=True.
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c is < (char)0x20 or > (char)0x7E)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
