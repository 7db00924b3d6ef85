using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Layer, instance and group normalisation on contiguous data viewed as (outer, length, inner), see
/// <see cref="SampleNormDescriptor"/>. For each (o, i), over the n = length values x[o, :, i]:
/// <code>
///   mean = sum(x) / n,  var = sum((x - mean)^2) / n   (biased; two passes, double accumulators)
///   std  = sqrt(var + eps),  xhat = (x - mean) / std,  y = gamma * xhat + beta
/// </code>
/// The saved statistics are the mean and std (MXNet's LayerNorm outputs). The backward pass, with
/// dxhat = dy * gamma, is dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std. Every statistic and every
/// gamma/beta gradient is summed in a fixed order, so results do not depend on the thread count. Float32 rows that
/// are contiguous (layer norm over the last axis, instance and group norm) run the one-pass vector form in
/// CpuSampleNorm.VectorRows.cs.
/// </summary>
public static unsafe partial class CpuSampleNorm
{
    /// <summary>Elements a thread should have before work is split (as batch norm's: ~32K elements take a few
    /// microseconds, about what a dispatch costs).</summary>
    private const long Grain = 1 << 15;

    /// <summary>Normalises x into y (y may be x) and writes each (o, i)'s mean and std.</summary>
    public static void Forward<T>(SampleNormDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> gamma,
        ReadOnlySpan<T> beta, Span<T> y, Span<T> mean, Span<T> std) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "sample_norm";
        ArgumentNullException.ThrowIfNull(desc);
        Check(op, "x", x.Length, desc.Count, desc);
        Check(op, "y", y.Length, desc.Count, desc);
        Check(op, "gamma", gamma.Length, desc.AffineCount, desc);
        Check(op, "beta", beta.Length, desc.AffineCount, desc);
        Check(op, "mean", mean.Length, desc.Statistics, desc);
        Check(op, "std", std.Length, desc.Statistics, desc);
        fixed (T* px = x, pg = gamma, pb = beta, py = y, pm = mean, ps = std)
            ForwardCore<T>(desc, (nint)px, (nint)pg, (nint)pb, (nint)py, (nint)pm, (nint)ps);
    }

    /// <summary>The gradients of <see cref="Forward{T}"/> from its saved std (the mean, saved rounded to T, is
    /// taken again in double); overwrites dx, dgamma and dbeta.</summary>
    public static void Backward<T>(SampleNormDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> dy,
        ReadOnlySpan<T> gamma, ReadOnlySpan<T> mean, ReadOnlySpan<T> std, Span<T> dx, Span<T> dgamma,
        Span<T> dbeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "sample_norm_backward";
        ArgumentNullException.ThrowIfNull(desc);
        Check(op, "x", x.Length, desc.Count, desc);
        Check(op, "dy", dy.Length, desc.Count, desc);
        Check(op, "dx", dx.Length, desc.Count, desc);
        Check(op, "gamma", gamma.Length, desc.AffineCount, desc);
        Check(op, "dgamma", dgamma.Length, desc.AffineCount, desc);
        Check(op, "dbeta", dbeta.Length, desc.AffineCount, desc);
        Check(op, "mean", mean.Length, desc.Statistics, desc);
        Check(op, "std", std.Length, desc.Statistics, desc);
        // The saved mean is rounded to T; next to large values (a mean of 1e3 in float) that rounding would shift
        // every xhat, so the backward pass takes the mean again in double: the vector rows with their other sums,
        // the general rows in a pass over x of its own.
        fixed (T* px = x, pdy = dy, pg = gamma, ps = std, pdx = dx, pdg = dgamma, pdb = dbeta)
        {
            if (typeof(T) == typeof(float) && IsVectorRows(desc))
            {
                BackwardVectorRows(desc, (nint)px, (nint)pdy, (nint)pg, (nint)ps, (nint)pdx, (nint)pdg, (nint)pdb);
                return;
            }
            var means = new double[desc.Statistics];
            DataGradient<T>(desc, (nint)px, (nint)pdy, (nint)pg, means, (nint)ps, (nint)pdx);
            AffineGradient<T>(desc, (nint)px, (nint)pdy, means, (nint)ps, (nint)pdg, (nint)pdb);
        }
    }

    // float and double to and from double without the generic CreateTruncating, which the JIT does not reduce to
    // a plain conversion here (it made the loops about 20 times slower).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double D<T>(T v) where T : unmanaged =>
        typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref v) : Unsafe.As<T, double>(ref v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromD<T>(double v) where T : unmanaged
    {
        if (typeof(T) != typeof(float)) return Unsafe.As<double, T>(ref v);
        float f = (float)v;
        return Unsafe.As<float, T>(ref f);
    }

    private static void Check(string op, string name, long actual, long expected, SampleNormDescriptor d)
    {
        if (actual != expected)
            throw new ArgumentException($"{op}: {name} has {actual} elements but {d} needs {expected}.", name);
    }

    private static long StatisticsGrain(SampleNormDescriptor d) => Math.Max(1, Grain / Math.Max(1, d.Length));

    private static void ForwardCore<T>(SampleNormDescriptor d, nint x, nint gamma, nint beta, nint y, nint mean,
        nint std) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && IsVectorRows(d))
            CpuParallel.For(d.Statistics, StatisticsGrain(d),
                (s0, s1) => ForwardVectorRows(d, x, gamma, beta, y, mean, std, s0, s1));
        else
            CpuParallel.For(d.Statistics, StatisticsGrain(d),
                (s0, s1) => ForwardRows<T>(d, x, gamma, beta, y, mean, std, s0, s1));
    }

    /// <summary>The rows of the forward pass; its own method so that it is compiled optimised at once (a lambda
    /// called a few times stays in the unoptimised tier, 10 to 20 times slower).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows<T>(SampleNormDescriptor d, nint x, nint gamma, nint beta, nint y, nint mean,
        nint std, long s0, long s1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        {
            T* px = (T*)x, py = (T*)y, pg = (T*)gamma, pb = (T*)beta;
            long n = d.Length, inner = d.Inner;
            for (long s = s0; s < s1; s++)
            {
                long o = s / inner, start = o * n * inner + s % inner;
                var (m, sd) = Moments(px + start, n, inner, d.Epsilon);
                ((T*)mean)[s] = FromD<T>(m);
                ((T*)std)[s] = FromD<T>(sd);
                // x - mean in double: a float mean rounded next to large values would shift every output by up
                // to half its unit in the last place.
                double rstd = 1 / sd;
                if (d.Affine == NormAffine.PerOuter)
                {
                    long k = o % d.Groups;
                    double scale = rstd * D(pg[k]), shift = D(pb[k]);
                    for (long j = 0; j < n; j++)
                    {
                        long e = start + j * inner;
                        py[e] = FromD<T>((D(px[e]) - m) * scale + shift);
                    }
                }
                else
                {
                    for (long j = 0; j < n; j++)
                    {
                        long e = start + j * inner;
                        py[e] = FromD<T>((D(px[e]) - m) * rstd *
                            D(pg[j]) + D(pb[j]));
                    }
                }
            }
        }
    }

    private static double Mean<T>(T* p, long n, long stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (long j = 0; j < n; j++) sum += D(p[j * stride]);
        return n == 0 ? 0 : sum / n;
    }

    /// <summary>Mean and sqrt(biased variance + eps) of n values at stride <paramref name="stride"/>.</summary>
    private static (double Mean, double Std) Moments<T>(T* p, long n, long stride, double eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n == 0) return (0, Math.Sqrt(eps));
        double mean = Mean(p, n, stride), sq = 0;
        for (long j = 0; j < n; j++)
        {
            double v = D(p[j * stride]) - mean;
            sq += v * v;
        }
        return (mean, Math.Sqrt(sq / n + eps));
    }

    private static void DataGradient<T>(SampleNormDescriptor d, nint x, nint dy, nint gamma, double[] means,
        nint std, nint dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(d.Statistics, StatisticsGrain(d),
            (s0, s1) => DataGradientRows<T>(d, x, dy, gamma, means, std, dx, s0, s1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DataGradientRows<T>(SampleNormDescriptor d, nint x, nint dy, nint gamma, double[] means,
        nint std, nint dx, long s0, long s1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        {
            T* px = (T*)x, pdy = (T*)dy, pg = (T*)gamma, pdx = (T*)dx;
            long n = d.Length, inner = d.Inner;
            bool perOuter = d.Affine == NormAffine.PerOuter;
            for (long s = s0; s < s1; s++)
            {
                long o = s / inner, start = o * n * inner + s % inner;
                double m = Mean(px + start, n, inner);
                means[s] = m;
                double rstd = 1 / D(((T*)std)[s]);
                double g0 = perOuter ? D(pg[o % d.Groups]) : 0;
                // a = mean(dxhat), b = mean(dxhat * xhat), accumulated in double.
                double a = 0, b = 0;
                for (long j = 0; j < n; j++)
                {
                    long e = start + j * inner;
                    double g = perOuter ? g0 : D(pg[j]);
                    double dxhat = D(pdy[e]) * g;
                    a += dxhat;
                    b += dxhat * (D(px[e]) - m) * rstd;
                }
                if (n > 0)
                {
                    a /= n;
                    b /= n;
                }
                for (long j = 0; j < n; j++)
                {
                    long e = start + j * inner;
                    double g = perOuter ? g0 : D(pg[j]);
                    double xhat = (D(px[e]) - m) * rstd;
                    pdx[e] = FromD<T>((D(pdy[e]) * g - a - xhat * b) * rstd);
                }
            }
        }
    }

    /// <summary>dgamma = sum(dy * xhat), dbeta = sum(dy) over the values each gamma element scales.</summary>
    private static void AffineGradient<T>(SampleNormDescriptor d, nint x, nint dy, double[] means, nint std,
        nint dgamma, nint dbeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = d.AffineCount;
        long perValue = count == 0 ? 0 : d.Count / count;
        CpuParallel.For(count, Math.Max(1, Grain / Math.Max(1, perValue)),
            (k0, k1) => AffineGradientRows<T>(d, x, dy, means, std, dgamma, dbeta, k0, k1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AffineGradientRows<T>(SampleNormDescriptor d, nint x, nint dy, double[] means, nint std,
        nint dgamma, nint dbeta, long k0, long k1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        {
            T* px = (T*)x, pdy = (T*)dy, ps = (T*)std;
            long n = d.Length, inner = d.Inner;
            for (long k = k0; k < k1; k++)
            {
                double sg = 0, sb = 0;
                if (d.Affine == NormAffine.PerPosition)
                {
                    // Position k of every (o, i): element (o, k, i).
                    for (long o = 0; o < d.Outer; o++)
                    for (long i = 0; i < inner; i++)
                    {
                        long s = o * inner + i, e = (o * n + k) * inner + i;
                        double v = D(pdy[e]);
                        sg += v * (D(px[e]) - means[s]) / D(ps[s]);
                        sb += v;
                    }
                }
                else
                {
                    // Every row o = k, k + groups, ...: inner is 1 for instance and group norm, but stay general.
                    for (long o = k; o < d.Outer; o += d.Groups)
                    for (long i = 0; i < inner; i++)
                    {
                        long s = o * inner + i;
                        double m = means[s], rstd = 1 / D(ps[s]);
                        for (long j = 0; j < n; j++)
                        {
                            long e = (o * n + j) * inner + i;
                            double v = D(pdy[e]);
                            sg += v * (D(px[e]) - m) * rstd;
                            sb += v;
                        }
                    }
                }
                ((T*)dgamma)[k] = FromD<T>(sg);
                ((T*)dbeta)[k] = FromD<T>(sb);
            }
        }
    }
}
