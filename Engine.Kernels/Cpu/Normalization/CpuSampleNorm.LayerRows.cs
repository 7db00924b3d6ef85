using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The vector form of the common case, float32 layer norm over contiguous rows (inner 1, gamma and beta per
/// position): the same arithmetic as the general rows, in double, with each float vector widened to two double
/// vectors, so a row costs a few passes at vector speed instead of scalar conversions per element. Statistics stay
/// double and are summed by one thread per row (per column for gamma and beta), so results do not depend on the
/// thread count.
/// </summary>
public static unsafe partial class CpuSampleNorm
{
    private static bool IsLayerRows(SampleNormDescriptor d) =>
        d.Inner == 1 && d.Affine == NormAffine.PerPosition && Vector.IsHardwareAccelerated;

    /// <summary>Sum of n floats in double (two accumulators per vector half).</summary>
    private static double SumWide(float* p, int n)
    {
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        int j = 0;
        for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector.Widen(Vector.Load(p + j), out var lo, out var hi);
            acc0 += lo;
            acc1 += hi;
        }
        double sum = Vector.Sum(acc0 + acc1);
        for (; j < n; j++) sum += p[j];
        return sum;
    }

    /// <summary>Sum of (x - mean)^2 over n floats, in double.</summary>
    private static double SquaredDeviationWide(float* p, int n, double mean)
    {
        var vm = new Vector<double>(mean);
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        int j = 0;
        for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector.Widen(Vector.Load(p + j), out var lo, out var hi);
            lo -= vm;
            hi -= vm;
            acc0 += lo * lo;
            acc1 += hi * hi;
        }
        double sum = Vector.Sum(acc0 + acc1);
        for (; j < n; j++)
        {
            double v = p[j] - mean;
            sum += v * v;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardLayerRows(SampleNormDescriptor d, nint x, nint gamma, nint beta, nint y, nint mean,
        nint std, long s0, long s1)
    {
        float* pg = (float*)gamma, pb = (float*)beta;
        int n = (int)d.Length;
        for (long s = s0; s < s1; s++)
        {
            float* px = (float*)x + s * n, py = (float*)y + s * n;
            double m = n == 0 ? 0 : SumWide(px, n) / n;
            double sd = n == 0 ? Math.Sqrt(d.Epsilon) : Math.Sqrt(SquaredDeviationWide(px, n, m) / n + d.Epsilon);
            ((float*)mean)[s] = (float)m;
            ((float*)std)[s] = (float)sd;
            double rstd = 1 / sd;
            var vm = new Vector<double>(m);
            var vr = new Vector<double>(rstd);
            int j = 0;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                Vector.Widen(Vector.Load(px + j), out var xlo, out var xhi);
                Vector.Widen(Vector.Load(pg + j), out var glo, out var ghi);
                Vector.Widen(Vector.Load(pb + j), out var blo, out var bhi);
                Vector.Narrow((xlo - vm) * vr * glo + blo, (xhi - vm) * vr * ghi + bhi).Store(py + j);
            }
            for (; j < n; j++) py[j] = (float)((px[j] - m) * rstd * pg[j] + pb[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DataGradientLayerRows(SampleNormDescriptor d, nint x, nint dy, nint gamma, double[] means,
        nint std, nint dx, long s0, long s1)
    {
        float* pg = (float*)gamma;
        int n = (int)d.Length;
        int w = Vector<float>.Count;
        for (long s = s0; s < s1; s++)
        {
            float* px = (float*)x + s * n, pdy = (float*)dy + s * n, pdx = (float*)dx + s * n;
            double m = n == 0 ? 0 : SumWide(px, n) / n;
            means[s] = m;
            double rstd = 1 / (double)((float*)std)[s];
            var vm = new Vector<double>(m);
            var vr = new Vector<double>(rstd);
            // a = mean(dxhat), b = mean(dxhat * xhat) with dxhat = dy * gamma.
            var a0 = Vector<double>.Zero;
            var a1 = Vector<double>.Zero;
            var b0 = Vector<double>.Zero;
            var b1 = Vector<double>.Zero;
            int j = 0;
            for (; j <= n - w; j += w)
            {
                Vector.Widen(Vector.Load(px + j), out var xlo, out var xhi);
                Vector.Widen(Vector.Load(pdy + j), out var dlo, out var dhi);
                Vector.Widen(Vector.Load(pg + j), out var glo, out var ghi);
                var hlo = dlo * glo;
                var hhi = dhi * ghi;
                a0 += hlo;
                a1 += hhi;
                b0 += hlo * ((xlo - vm) * vr);
                b1 += hhi * ((xhi - vm) * vr);
            }
            double a = Vector.Sum(a0 + a1), b = Vector.Sum(b0 + b1);
            for (int t = j; t < n; t++)
            {
                double h = (double)pdy[t] * pg[t];
                a += h;
                b += h * ((px[t] - m) * rstd);
            }
            if (n > 0)
            {
                a /= n;
                b /= n;
            }
            var va = new Vector<double>(a);
            var vb = new Vector<double>(b);
            j = 0;
            for (; j <= n - w; j += w)
            {
                Vector.Widen(Vector.Load(px + j), out var xlo, out var xhi);
                Vector.Widen(Vector.Load(pdy + j), out var dlo, out var dhi);
                Vector.Widen(Vector.Load(pg + j), out var glo, out var ghi);
                var lo = (dlo * glo - va - (xlo - vm) * vr * vb) * vr;
                var hi = (dhi * ghi - va - (xhi - vm) * vr * vb) * vr;
                Vector.Narrow(lo, hi).Store(pdx + j);
            }
            for (; j < n; j++)
            {
                double xhat = (px[j] - m) * rstd;
                pdx[j] = (float)(((double)pdy[j] * pg[j] - a - xhat * b) * rstd);
            }
        }
    }

    /// <summary>dgamma[k] = sum over rows of dy * xhat, dbeta[k] = sum of dy, for positions k0..k1: rows in order,
    /// vectorised across positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AffineGradientLayerRows(SampleNormDescriptor d, nint x, nint dy, double[] means, nint std,
        nint dgamma, nint dbeta, long k0, long k1)
    {
        int n = (int)d.Length, width = (int)(k1 - k0);
        var sg = new double[width];
        var sb = new double[width];
        int w = Vector<float>.Count, half = Vector<double>.Count;
        fixed (double* pg = sg, pb = sb)
        {
            for (long o = 0; o < d.Outer; o++)
            {
                float* px = (float*)x + o * n + k0, pdy = (float*)dy + o * n + k0;
                double m = means[o], rstd = 1 / (double)((float*)std)[o];
                var vm = new Vector<double>(m);
                var vr = new Vector<double>(rstd);
                int j = 0;
                for (; j <= width - w; j += w)
                {
                    Vector.Widen(Vector.Load(px + j), out var xlo, out var xhi);
                    Vector.Widen(Vector.Load(pdy + j), out var dlo, out var dhi);
                    (Vector.Load(pg + j) + dlo * ((xlo - vm) * vr)).Store(pg + j);
                    (Vector.Load(pg + j + half) + dhi * ((xhi - vm) * vr)).Store(pg + j + half);
                    (Vector.Load(pb + j) + dlo).Store(pb + j);
                    (Vector.Load(pb + j + half) + dhi).Store(pb + j + half);
                }
                for (; j < width; j++)
                {
                    double v = pdy[j];
                    pg[j] += v * ((px[j] - m) * rstd);
                    pb[j] += v;
                }
            }
        }
        for (int j = 0; j < width; j++)
        {
            ((float*)dgamma)[k0 + j] = (float)sg[j];
            ((float*)dbeta)[k0 + j] = (float)sb[j];
        }
    }
}
