namespace Engine.Tests.Conformance.Reference;

/// <summary>The living definition of each elementwise operator, in double precision.</summary>
public static class ElementwiseReference
{
    public static readonly IReadOnlyDictionary<string, Func<double, double>> Unary =
        new Dictionary<string, Func<double, double>>
    {
        ["negative"] = x => -x,
        ["abs"] = Math.Abs,
        ["sign"] = x => Math.Sign(x),
        ["square"] = x => x * x,
        ["relu"] = x => x > 0 ? x : 0,
        ["exp"] = Math.Exp,
        ["log"] = Math.Log,
        ["sqrt"] = Math.Sqrt,
        ["rsqrt"] = x => 1 / Math.Sqrt(x),
        ["reciprocal"] = x => 1 / x,
        ["sigmoid"] = x => 1 / (1 + Math.Exp(-x)),
        ["tanh"] = Math.Tanh,
        ["softrelu"] = x => Math.Log(1 + Math.Exp(x)),
        ["softsign"] = x => x / (1 + Math.Abs(x)),
    };

    public static readonly IReadOnlyDictionary<string, Func<double, double, double>> Binary =
        new Dictionary<string, Func<double, double, double>>
        {
            ["add"] = (a, b) => a + b,
            ["subtract"] = (a, b) => a - b,
            ["multiply"] = (a, b) => a * b,
            ["divide"] = (a, b) => a / b,
            ["power"] = Math.Pow,
            ["maximum"] = Math.Max,
            ["minimum"] = Math.Min,
            ["equal"] = (a, b) => a == b ? 1 : 0,
            ["not_equal"] = (a, b) => a != b ? 1 : 0,
            ["greater"] = (a, b) => a > b ? 1 : 0,
            ["greater_equal"] = (a, b) => a >= b ? 1 : 0,
            ["lesser"] = (a, b) => a < b ? 1 : 0,
            ["lesser_equal"] = (a, b) => a <= b ? 1 : 0,
            ["_backward_relu"] = (y, dy) => y > 0 ? dy : 0,
        };

    /// <summary>Broadcasts a and b (row-major data of shapes sa, sb) and applies f.</summary>
    public static double[] Broadcast(double[] a, Shape sa, double[] b, Shape sb, Shape outShape,
        Func<double, double, double> f)
    {
        var result = new double[outShape.Size];
        var idx = new int[outShape.Rank];
        for (long i = 0; i < result.Length; i++)
        {
            long rem = i;
            for (int d = outShape.Rank - 1; d >= 0; d--)
            {
                idx[d] = (int)(rem % outShape[d]);
                rem /= outShape[d];
            }
            result[i] = f(a[Index(idx, sa)], b[Index(idx, sb)]);
        }
        return result;
    }

    private static long Index(int[] outIdx, Shape s)
    {
        long offset = 0;
        int pad = outIdx.Length - s.Rank;
        for (int d = 0; d < s.Rank; d++) offset = offset * s[d] + (s[d] == 1 ? 0 : outIdx[d + pad]);
        return offset;
    }
}
