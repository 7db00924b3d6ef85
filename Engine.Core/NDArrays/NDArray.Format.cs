using System.Globalization;
using System.Text;

namespace Engine;

public sealed partial class NDArray
{
    /// <summary>Large arrays print their first and last few entries per axis, as NumPy and MXNet do.</summary>
    private const int SummaryThreshold = 1000, EdgeItems = 3;

    /// <summary>MXNet's format: the values in brackets, then <c>&lt;NDArray 2x3 @cpu(0)&gt;</c>.</summary>
    public override string ToString()
    {
        if (IsDisposed) return $"<NDArray {ShapeText()} @{Device} (disposed)>";
        if (Traced is { } node) return $"<Symbol {node} {ShapeText()} {DType.Name()} @{Device}>";
        if (!HasData) return $"<NDArray {ShapeText()} @{Device} (no data)>";
        var values = ToArray<double>();
        bool summarize = values.Length > SummaryThreshold;
        bool integral = !DType.IsFloatingPoint() || values.All(v => v == Math.Floor(v) || !double.IsFinite(v));
        var sb = new StringBuilder("\n");
        if (Rank == 0) sb.Append(FormatValue(values[0], integral));
        else AppendAxis(sb, values, 0, 0, integral, summarize);
        sb.Append('\n').Append($"<NDArray {ShapeText()} @{Device}>");
        return sb.ToString();
    }

    private string ShapeText() => Rank == 0 ? "" : string.Join("x", Shape.Dims.ToArray());

    private void AppendAxis(StringBuilder sb, double[] values, int axis, long offset, bool integral, bool summarize)
    {
        int n = Shape[axis];
        long stride = Shape.SizeOf(axis + 1, Rank);
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (summarize && n > 2 * EdgeItems && i == EdgeItems)
            {
                sb.Append(axis == Rank - 1 ? "... " : "...\n" + new string(' ', axis + 1));
                i = n - EdgeItems - 1;
                continue;
            }
            if (axis == Rank - 1)
            {
                sb.Append(FormatValue(values[offset + i], integral));
                if (i < n - 1) sb.Append(' ');
            }
            else
            {
                AppendAxis(sb, values, axis + 1, offset + i * stride, integral, summarize);
                if (i < n - 1) sb.Append('\n').Append(new string(' ', axis + 1));
            }
        }
        sb.Append(']');
    }

    private string FormatValue(double v, bool integral)
    {
        if (!DType.IsFloatingPoint()) return v.ToString("0", CultureInfo.InvariantCulture);
        if (double.IsNaN(v)) return "nan";
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        if (integral) return v.ToString("0", CultureInfo.InvariantCulture) + ".";
        return DType == DType.Float32
            ? ((float)v).ToString("0.#######", CultureInfo.InvariantCulture)
            : v.ToString("0.###############", CultureInfo.InvariantCulture);
    }
}
