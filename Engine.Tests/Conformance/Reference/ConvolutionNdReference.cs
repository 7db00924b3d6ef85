namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Convolution, transposed convolution and pooling with 1, 2 or 3 spatial dimensions, written the obvious way in
/// double over flat arrays and explicit shapes. The convolution gathers: y[n, k, o] = b[k] + sum over (c, t) of
/// x[n, g * C/g + c, o * s - p + t * d] * w[k, c, t]. The transposed convolution scatters, straight from its
/// definition: every x[n, c, i] adds x * w[c, f, t] to y[n, g * F/g + f, i * s - p + t * d]. Neither is derived from
/// the other, so a test of one against the other's adjoint checks both.
/// </summary>
public static class ConvolutionNdReference
{
    /// <summary>Every multi-index of a shape, in row-major order.</summary>
    public static IEnumerable<int[]> Indices(int[] shape)
    {
        if (shape.Any(s => s <= 0)) yield break;
        var i = new int[shape.Length];
        while (true)
        {
            yield return (int[])i.Clone();
            int a = shape.Length - 1;
            while (a >= 0 && ++i[a] == shape[a]) i[a--] = 0;
            if (a < 0) yield break;
        }
    }

    private static long Flat(int[] shape, params int[] index)
    {
        long f = 0;
        for (int a = 0; a < shape.Length; a++) f = f * shape[a] + index[a];
        return f;
    }

    public static int[] ConvOutput(int[] xs, int[] ws, int[] stride, int[] pad, int[] dilate) =>
        [xs[0], ws[0], .. Enumerable.Range(0, xs.Length - 2)
            .Select(a => (xs[2 + a] + 2 * pad[a] - dilate[a] * (ws[2 + a] - 1) - 1) / stride[a] + 1)];

    /// <summary>
    /// Calls visit(x index, w index, y index) for every product term of the convolution: the forward sums them into
    /// y, and the data and weight gradients are the same terms read the other way.
    /// </summary>
    private static void Terms(int[] xs, int[] ws, int[] stride, int[] pad, int[] dilate, int groups,
        Action<long, long, long> visit)
    {
        int spatial = xs.Length - 2, cg = xs[1] / groups, kg = ws[0] / groups;
        var ys = ConvOutput(xs, ws, stride, pad, dilate);
        var taps = ws[2..];
        foreach (var yi in Indices(ys))
        {
            int g = yi[1] / kg;
            for (int c = 0; c < cg; c++)
            foreach (var t in Indices(taps))
            {
                var xi = new int[xs.Length];
                xi[0] = yi[0];
                xi[1] = g * cg + c;
                bool inside = true;
                for (int a = 0; a < spatial; a++)
                {
                    xi[2 + a] = yi[2 + a] * stride[a] - pad[a] + t[a] * dilate[a];
                    inside &= xi[2 + a] >= 0 && xi[2 + a] < xs[2 + a];
                }
                if (inside) visit(Flat(xs, xi), Flat(ws, [yi[1], c, .. t]), Flat(ys, yi));
            }
        }
    }

    public static double[] Conv(double[] x, int[] xs, double[] w, int[] ws, double[]? b, int[] stride, int[] pad,
        int[] dilate, int groups)
    {
        var ys = ConvOutput(xs, ws, stride, pad, dilate);
        var y = new double[ys.Aggregate(1L, (p, v) => p * v)];
        if (b is not null)
        {
            foreach (var yi in Indices(ys)) y[Flat(ys, yi)] = b[yi[1]];
        }
        Terms(xs, ws, stride, pad, dilate, groups, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
        return y;
    }

    public static double[] ConvBackwardData(double[] dy, double[] w, int[] xs, int[] ws, int[] stride, int[] pad,
        int[] dilate, int groups)
    {
        var dx = new double[xs.Aggregate(1L, (p, v) => p * v)];
        Terms(xs, ws, stride, pad, dilate, groups, (xi, wi, yi) => dx[xi] += dy[yi] * w[wi]);
        return dx;
    }

    public static double[] ConvBackwardWeight(double[] x, double[] dy, int[] xs, int[] ws, int[] stride, int[] pad,
        int[] dilate, int groups)
    {
        var dw = new double[ws.Aggregate(1L, (p, v) => p * v)];
        Terms(xs, ws, stride, pad, dilate, groups, (xi, wi, yi) => dw[wi] += dy[yi] * x[xi]);
        return dw;
    }

    /// <summary>The transposed convolution, scattered; weight (C_in, F / groups, k...).</summary>
    public static (double[] Y, int[] Shape) ConvTranspose(double[] x, int[] xs, double[] w, int[] ws, double[]? b,
        int[] stride, int[] pad, int[] adj, int[] dilate, int groups)
    {
        int spatial = xs.Length - 2, cg = xs[1] / groups, fg = ws[1];
        int[] ys = [xs[0], fg * groups, .. Enumerable.Range(0, spatial)
            .Select(a => stride[a] * (xs[2 + a] - 1) + dilate[a] * (ws[2 + a] - 1) + 1 - 2 * pad[a] + adj[a])];
        var y = new double[ys.Aggregate(1L, (p, v) => p * v)];
        if (b is not null)
        {
            foreach (var yi in Indices(ys)) y[Flat(ys, yi)] = b[yi[1]];
        }
        var taps = ws[2..];
        foreach (var xi in Indices(xs))
        {
            int g = xi[1] / cg;
            for (int f = 0; f < fg; f++)
            foreach (var t in Indices(taps))
            {
                var yi = new int[ys.Length];
                yi[0] = xi[0];
                yi[1] = g * fg + f;
                bool inside = true;
                for (int a = 0; a < spatial; a++)
                {
                    yi[2 + a] = xi[2 + a] * stride[a] - pad[a] + t[a] * dilate[a];
                    inside &= yi[2 + a] >= 0 && yi[2 + a] < ys[2 + a];
                }
                if (inside) y[Flat(ys, yi)] += x[Flat(xs, xi)] * w[Flat(ws, [xi[1], f, .. t])];
            }
        }
        return (y, ys);
    }
}
