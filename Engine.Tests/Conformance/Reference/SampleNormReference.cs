namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Layer, instance and group normalisation written the obvious way in double: each statistic is a set of element
/// indices found by walking the shape, and the backward pass is the full Jacobian of the normalisation,
/// dy/dx[j] = gamma rstd (delta_jk - 1/n - xhat_j xhat_k / n), summed against dy (no shortcut formula).
/// </summary>
public static class SampleNormReference
{
    /// <summary>The statistic sets and, per element, the index of its gamma and beta.</summary>
    public sealed record Layout(long[][] Sets, int[] AffineIndex);

    public sealed record Result(double[] Y, double[] Mean, double[] Std);

    public sealed record Gradients(double[] Dx, double[] Dgamma, double[] Dbeta);

    /// <summary>Layer norm over <paramref name="axis"/>: one set per index of the other axes.</summary>
    public static Layout LayerNorm(Shape shape, int axis)
    {
        int a = axis < 0 ? axis + shape.Rank : axis;
        long before = 1, after = 1;
        for (int k = 0; k < a; k++) before *= shape[k];
        for (int k = a + 1; k < shape.Rank; k++) after *= shape[k];
        int n = shape[a];
        var sets = new List<long[]>();
        var affine = new int[shape.Size];
        for (long o = 0; o < before; o++)
        for (long i = 0; i < after; i++)
        {
            var set = new long[n];
            for (int j = 0; j < n; j++)
            {
                set[j] = (o * n + j) * after + i;
                affine[set[j]] = j;
            }
            sets.Add(set);
        }
        return new Layout(sets.ToArray(), affine);
    }

    /// <summary>Group norm on (N, C, spatial...): one set per sample and group of C / G channels; gamma per group.
    /// Instance norm is the case G = C.</summary>
    public static Layout GroupNorm(Shape shape, int groups)
    {
        int batch = shape[0], channels = shape[1];
        long spatial = shape.Size / Math.Max(1, (long)batch * channels);
        int per = channels / groups;
        var sets = new List<long[]>();
        var affine = new int[shape.Size];
        for (int b = 0; b < batch; b++)
        for (int g = 0; g < groups; g++)
        {
            var set = new List<long>();
            for (int c = g * per; c < (g + 1) * per; c++)
            for (long s = 0; s < spatial; s++)
            {
                long e = ((long)b * channels + c) * spatial + s;
                set.Add(e);
                affine[e] = g;
            }
            sets.Add(set.ToArray());
        }
        return new Layout(sets.ToArray(), affine);
    }

    public static Result Forward(Layout l, double[] x, double[] gamma, double[] beta, double eps)
    {
        var y = new double[x.Length];
        var mean = new double[l.Sets.Length];
        var std = new double[l.Sets.Length];
        for (int s = 0; s < l.Sets.Length; s++)
        {
            var set = l.Sets[s];
            mean[s] = set.Length == 0 ? 0 : set.Average(e => x[e]);
            double variance = set.Length == 0 ? 0 : set.Average(e => (x[e] - mean[s]) * (x[e] - mean[s]));
            std[s] = Math.Sqrt(variance + eps);
            foreach (long e in set)
                y[e] = (x[e] - mean[s]) / std[s] * gamma[l.AffineIndex[e]] + beta[l.AffineIndex[e]];
        }
        return new Result(y, mean, std);
    }

    public static Gradients Backward(Layout l, double[] x, double[] dy, double[] gamma, double eps)
    {
        var f = Forward(l, x, gamma, new double[gamma.Length], eps);
        var dx = new double[x.Length];
        var dgamma = new double[gamma.Length];
        var dbeta = new double[gamma.Length];
        for (int s = 0; s < l.Sets.Length; s++)
        {
            var set = l.Sets[s];
            int n = set.Length;
            double rstd = 1 / f.Std[s];
            double Xhat(long e) => (x[e] - f.Mean[s]) * rstd;
            foreach (long j in set)
            {
                double sum = 0;
                foreach (long k in set)
                {
                    double jac = gamma[l.AffineIndex[k]] * rstd * ((j == k ? 1 : 0) - 1.0 / n - Xhat(j) * Xhat(k) / n);
                    sum += dy[k] * jac;
                }
                dx[j] = sum;
                dgamma[l.AffineIndex[j]] += dy[j] * Xhat(j);
                dbeta[l.AffineIndex[j]] += dy[j];
            }
        }
        return new Gradients(dx, dgamma, dbeta);
    }
}
