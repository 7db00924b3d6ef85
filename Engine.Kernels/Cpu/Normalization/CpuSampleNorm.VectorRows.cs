using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The vector form of the common cases, float32 rows that are contiguous (inner 1): layer norm over the last axis
/// (gamma and beta per position), instance and group norm (one gamma and beta per row). Statistics are summed in
/// double in one pass over a row: the sums of x - x0 and of its square, shifted by the row's first value x0 so
/// that the variance does not cancel next to a large mean (the shifted mean is within a few standard deviations
/// of zero); the backward pass's sums in float over chunks of 16 vectors, added in double. The per-element outputs
/// (y, dx, and the products summed for dgamma) are computed in float from the row's mean split into two floats,
/// mh + ml: x - mh is exact near the mean, so centring loses nothing to the mean's rounding. Where the general rows
/// take two or three passes at double width for a row, these take one for the sums and one at float width, in
/// Vector512 lanes (split by the JIT into narrower ones without AVX-512, see
/// <see cref="CpuInstructionSet.Vector512LoopsPay"/>).
/// A row's statistics are summed by one thread; gamma and beta's gradients in float over fixed blocks of rows,
/// whose partial sums are added in double in block order; and the scalar tails compute the vector lanes' formulas:
/// so results depend neither on the thread count nor on where a split falls.
/// </summary>
public static unsafe partial class CpuSampleNorm
{
    private const int Lanes = 16;

    /// <summary>
    /// Float32 rows this form runs: contiguous (inner 1), gamma per position (layer norm) or per row (instance and
    /// group norm, gamma[o % groups]).
    /// </summary>
    private static bool IsVectorRows(SampleNormDescriptor d) => d.Inner == 1 && CpuInstructionSet.Vector512LoopsPay;

    /// <summary>A row's mean split into two floats (mh + ml) and its reciprocal std as a float.</summary>
    private readonly record struct RowCentre(float High, float Low, float InverseStd)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static RowCentre Of(double mean, double inverseStd)
        {
            float high = (float)mean;
            return new RowCentre(high, (float)(mean - high), (float)inverseStd);
        }

        /// <summary>(x - mean) / std in float: the same operations as the vector lanes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Normalise(float x) => (x - High - Low) * InverseStd;
    }

    /// <summary>Mean and sqrt(biased variance + eps) of a row, in one pass of shifted double sums.</summary>
    private static (double Mean, double Std) RowMoments(float* p, int n, double eps)
    {
        if (n == 0) return (0, Math.Sqrt(eps));
        double x0 = p[0];
        var shift = Vector512.Create(x0);
        Vector512<double> s0 = default, s1 = default, q0 = default, q1 = default;
        int j = 0;
        for (; j <= n - Lanes; j += Lanes)
        {
            var v = Vector512.Load(p + j);
            var lo = Vector512.WidenLower(v) - shift;
            var hi = Vector512.WidenUpper(v) - shift;
            s0 += lo;
            s1 += hi;
            q0 = Vector512.FusedMultiplyAdd(lo, lo, q0);
            q1 = Vector512.FusedMultiplyAdd(hi, hi, q1);
        }
        double s = Vector512.Sum(s0 + s1), q = Vector512.Sum(q0 + q1);
        for (; j < n; j++)
        {
            double d = p[j] - x0;
            s += d;
            q += d * d;
        }
        double shifted = s / n;
        return (x0 + shifted, Math.Sqrt(Math.Max(0, q / n - shifted * shifted) + eps));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardVectorRows(SampleNormDescriptor d, nint x, nint gamma, nint beta, nint y, nint mean,
        nint std, long s0, long s1)
    {
        float* pg = (float*)gamma, pb = (float*)beta;
        int n = (int)d.Length;
        for (long s = s0; s < s1; s++)
        {
            float* px = (float*)x + s * n, py = (float*)y + s * n;
            var (m, sd) = RowMoments(px, n, d.Epsilon);
            ((float*)mean)[s] = (float)m;
            ((float*)std)[s] = (float)sd;
            var c = RowCentre.Of(m, 1 / sd);
            Vector512<float> mh = Vector512.Create(c.High), ml = Vector512.Create(c.Low);
            var r = Vector512.Create(c.InverseStd);
            int j = 0;
            if (d.Affine == NormAffine.PerPosition)
            {
                for (; j <= n - Lanes; j += Lanes)
                {
                    var xhat = (Vector512.Load(px + j) - mh - ml) * r;
                    Vector512.FusedMultiplyAdd(xhat, Vector512.Load(pg + j), Vector512.Load(pb + j)).Store(py + j);
                }
                for (; j < n; j++) py[j] = MathF.FusedMultiplyAdd(c.Normalise(px[j]), pg[j], pb[j]);
                continue;
            }
            float g = pg[s % d.Groups], b = pb[s % d.Groups];
            Vector512<float> vg = Vector512.Create(g), vb = Vector512.Create(b);
            for (; j <= n - Lanes; j += Lanes)
                Vector512.FusedMultiplyAdd((Vector512.Load(px + j) - mh - ml) * r, vg, vb).Store(py + j);
            for (; j < n; j++) py[j] = MathF.FusedMultiplyAdd(c.Normalise(px[j]), g, b);
        }
    }

    /// <summary>The values t a row's backward sums run over, by vector or one at a time.</summary>
    private interface IRowValues
    {
        Vector512<float> Vector(int j);

        float Scalar(int j);
    }

    /// <summary>dy * gamma, gamma per position (layer norm).</summary>
    private readonly struct DyTimesGamma(float* dy, float* gamma) : IRowValues
    {
        public Vector512<float> Vector(int j) => Vector512.Load(dy + j) * Vector512.Load(gamma + j);

        public float Scalar(int j) => dy[j] * gamma[j];
    }

    /// <summary>dy alone (one gamma per row, applied to the sums).</summary>
    private readonly struct Dy(float* dy) : IRowValues
    {
        public Vector512<float> Vector(int j) => Vector512.Load(dy + j);

        public float Scalar(int j) => dy[j];
    }

    /// <summary>
    /// Vectors of a row summed in float before <see cref="ShiftedSums"/> adds their sums in double: each float lane
    /// sums 16 terms, so the sums keep nearly all of double's precision (against a double reference, BERT-width rows'
    /// dx within 1.3e-6 relative, 7e-7 before; instance norm's dgamma over 4096 within 6e-7, 3e-7 before) at float's
    /// speed. Widening every vector to double took most of the backward pass with AVX2 (Ice Lake-SP, one thread,
    /// fastest ms): layer norm 1120 x 256 0.28-0.32 -> 0.20, 4096 x 768 5.1-5.3 -> 4.3-4.7, instance norm
    /// 8x64x64x64 4.0-4.6 -> 2.4-2.9, group norm 3.8-5.2 -> 2.5-2.6; AVX-512 unchanged. The chunks are a call each:
    /// inlined, the float and double accumulators together ran slower than the double ones alone (the JIT's split
    /// Vector512 spilled).
    /// </summary>
    private const int FloatChunk = 16;

    /// <summary>
    /// A row's shifted sums for the backward pass, in double: sum(x - x0), sum(t) and sum(t (x - x0)), each t a float
    /// (dy * gamma is rounded to float before it is summed), x - x0 in float (exact while x is within a factor two
    /// of x0, and near it in any case), summed in float over chunks of <see cref="FloatChunk"/> vectors
    /// (<see cref="ChunkSums"/>) and the chunks' sums added in double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double X, double T, double TX) ShiftedSums<TValues>(float* px, TValues values, int n, double x0)
        where TValues : struct, IRowValues
    {
        double sumX = 0, sumT = 0, sumTX = 0;
        int j = 0;
        for (; j <= n - Lanes; j += FloatChunk * Lanes)
        {
            var (x, t, tx) = ChunkSums(px, values, j, Math.Min(n / Lanes * Lanes, j + FloatChunk * Lanes), (float)x0);
            sumX += x;
            sumT += t;
            sumTX += tx;
        }
        for (j = n / Lanes * Lanes; j < n; j++)
        {
            double xd = px[j] - (float)x0, t = values.Scalar(j);
            sumX += xd;
            sumT += t;
            sumTX += t * xd;
        }
        return (sumX, sumT, sumTX);
    }

    /// <summary>The float sums of <see cref="ShiftedSums"/> over the whole vectors from j to end.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (float X, float T, float TX) ChunkSums<TValues>(float* px, TValues values, int j, int end, float x0)
        where TValues : struct, IRowValues
    {
        var shift = Vector512.Create(x0);
        Vector512<float> sx = default, st = default, stx = default;
        for (; j < end; j += Lanes)
        {
            var xd = Vector512.Load(px + j) - shift;
            var t = values.Vector(j);
            sx += xd;
            st += t;
            stx = Vector512.FusedMultiplyAdd(t, xd, stx);
        }
        return (Vector512.Sum(sx), Vector512.Sum(st), Vector512.Sum(stx));
    }

    /// <summary>
    /// Fewest rows whose dgamma and dbeta terms are summed into one float partial sum (see BackwardVectorRows);
    /// inputs of more than <see cref="MaxAffineBlocks"/> times as many rows take larger blocks, up to
    /// <see cref="MaxAffineBlockRows"/> rows, so the partial sums take at most 2 x 256 x n floats, or 1/128 of the
    /// input, and each sums a few hundred terms at most.
    /// </summary>
    private const int AffineBlockRows = 32;

    private const int MaxAffineBlocks = 256;

    private const int MaxAffineBlockRows = 256;

    /// <summary>
    /// The float32 vector-rows backward, one pass over x and dy; rows with one gamma each go to
    /// <see cref="BackwardOuterRows"/>. Layer norm's rows run in fixed blocks (of
    /// <see cref="AffineBlockRows"/> rows or more); each row's dx comes from its shifted sums
    /// (<see cref="RowGradient"/>), which also adds the row's dgamma and dbeta terms to its block's partial sums
    /// (in float: at most a few hundred terms), and the blocks' partial sums are added in double, in block order,
    /// at the end. The blocks depend on the shape alone, so the sums do not depend on the thread count. A separate
    /// pass for dgamma and dbeta read x and dy from memory a second time (BERT's 4096 x 768: 6.3 ms for the two
    /// passes, PyTorch 4.3; 4.0-4.8 ms now).
    /// </summary>
    private static void BackwardVectorRows(SampleNormDescriptor d, nint x, nint dy, nint gamma, nint std, nint dx,
        nint dgamma, nint dbeta)
    {
        if (d.Affine == NormAffine.PerOuter)
        {
            BackwardOuterRows(d, x, dy, gamma, std, dx, dgamma, dbeta);
            return;
        }
        int n = (int)d.Length;
        long blockRows = Math.Clamp((d.Statistics + MaxAffineBlocks - 1) / MaxAffineBlocks, AffineBlockRows,
            MaxAffineBlockRows);
        long blocks = (d.Statistics + blockRows - 1) / blockRows;
        float* pdg = (float*)dgamma, pdb = (float*)dbeta;
        if (blocks == 0 || n == 0)
        {
            new Span<float>(pdg, n).Clear();
            new Span<float>(pdb, n).Clear();
            return;
        }
        var partials = ArrayPool<float>.Shared.Rent((int)(blocks * 2 * n));
        try
        {
            fixed (float* pp = partials)
            {
                nint pa = (nint)pp;
                CpuParallel.For(blocks, Math.Max(1, Grain / (blockRows * n)), (b0, b1) =>
                {
                    for (long b = b0; b < b1; b++)
                    {
                        float* sums = (float*)pa + b * 2 * n;
                        new Span<float>(sums, 2 * n).Clear();
                        long end = Math.Min(d.Statistics, (b + 1) * blockRows);
                        for (long s = b * blockRows; s < end; s++) RowGradient(d, x, dy, gamma, std, dx, s, sums);
                    }
                });
                SumBlocks(pp, blocks, n, pdg, pdb);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>
    /// Row s's dx, and its dgamma and dbeta terms added to <paramref name="sums"/> (dgamma's n, then dbeta's n).
    /// With dxhat = dy * gamma: a = mean(dxhat) and b = mean(dxhat * xhat) = (mean(dxhat (x - x0)) - (mean - x0) a)
    /// / std come from one pass of shifted double sums (the mean with them), then dx = (dxhat - a - xhat b) / std
    /// in float, the row still in L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowGradient(SampleNormDescriptor d, nint x, nint dy, nint gamma, nint std, nint dx, long s,
        float* sums)
    {
        float* pg = (float*)gamma;
        int n = (int)d.Length;
        float* px = (float*)x + s * n, pdy = (float*)dy + s * n, pdx = (float*)dx + s * n;
        double rstd = 1 / (double)((float*)std)[s];
        double x0 = px[0];
        var (sumX, sumH, sumHX) = ShiftedSums(px, new DyTimesGamma(pdy, pg), n, x0);
        int j;
        double invN = 1.0 / n, shifted = sumX * invN, a = sumH * invN, b = (sumHX * invN - shifted * a) * rstd;
        var c = RowCentre.Of(x0 + shifted, rstd);
        float af = (float)a, bf = (float)b;
        Vector512<float> mh = Vector512.Create(c.High), ml = Vector512.Create(c.Low);
        Vector512<float> r = Vector512.Create(c.InverseStd), va = Vector512.Create(af), vb = Vector512.Create(bf);
        float* sg = sums, sb = sums + n;
        for (j = 0; j <= n - Lanes; j += Lanes)
        {
            var xhat = (Vector512.Load(px + j) - mh - ml) * r;
            var v = Vector512.Load(pdy + j);
            var h = v * Vector512.Load(pg + j);
            (Vector512.FusedMultiplyAdd(-xhat, vb, h - va) * r).Store(pdx + j);
            Vector512.FusedMultiplyAdd(v, xhat, Vector512.Load(sg + j)).Store(sg + j);
            (Vector512.Load(sb + j) + v).Store(sb + j);
        }
        for (; j < n; j++)
        {
            float v = pdy[j], xhat = c.Normalise(px[j]);
            pdx[j] = MathF.FusedMultiplyAdd(-xhat, bf, v * pg[j] - af) * c.InverseStd;
            sg[j] = MathF.FusedMultiplyAdd(v, xhat, sg[j]);
            sb[j] += v;
        }
    }

    /// <summary>
    /// dgamma and dbeta: the blocks' partial sums (2n each, dgamma's then dbeta's) added in double in block order,
    /// then rounded to float.
    /// </summary>
    private static void SumBlocks(float* partials, long blocks, int n, float* dgamma, float* dbeta)
    {
        int all = 2 * n;
        var sums = ArrayPool<double>.Shared.Rent(all);
        try
        {
            fixed (double* total = sums)
            {
                new Span<double>(total, all).Clear();
                for (long k = 0; k < blocks; k++)
                {
                    float* p = partials + k * all;
                    int j = 0;
                    for (; j <= all - Lanes; j += Lanes)
                    {
                        var v = Vector512.Load(p + j);
                        (Vector512.Load(total + j) + Vector512.WidenLower(v)).Store(total + j);
                        (Vector512.Load(total + j + Lanes / 2) + Vector512.WidenUpper(v)).Store(total + j + Lanes / 2);
                    }
                    for (; j < all; j++) total[j] += p[j];
                }
                for (int j = 0; j < n; j++)
                {
                    dgamma[j] = (float)total[j];
                    dbeta[j] = (float)total[n + j];
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(sums);
        }
    }
    /// <summary>
    /// The backward pass of rows with one gamma each (instance and group norm): each row's dx as in
    /// <see cref="RowGradient"/>, and its dgamma and dbeta terms, sum(dy xhat) and sum(dy), from the same shifted
    /// double sums; gamma's and beta's gradients then add the terms of rows o, o + groups, ... in row order.
    /// </summary>
    private static void BackwardOuterRows(SampleNormDescriptor d, nint x, nint dy, nint gamma, nint std, nint dx,
        nint dgamma, nint dbeta)
    {
        long rows = d.Statistics;
        var terms = ArrayPool<double>.Shared.Rent((int)(2 * rows));
        try
        {
            fixed (double* pt = terms)
            {
                nint at = (nint)pt;
                CpuParallel.For(rows, StatisticsGrain(d), (s0, s1) =>
                {
                    for (long s = s0; s < s1; s++) OuterRowGradient(d, x, dy, gamma, std, dx, s, (double*)at + 2 * s);
                });
                for (int k = 0; k < d.Groups; k++)
                {
                    double g = 0, b = 0;
                    for (long o = k; o < rows; o += d.Groups)
                    {
                        g += pt[2 * o];
                        b += pt[2 * o + 1];
                    }
                    ((float*)dgamma)[k] = (float)g;
                    ((float*)dbeta)[k] = (float)b;
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(terms);
        }
    }

    /// <summary>
    /// Row s's dx with its one gamma g: from the shifted double sums of x - x0, dy and dy (x - x0), a = g mean(dy)
    /// and b = g (mean(dy (x - x0)) - (mean - x0) mean(dy)) / std, then dx = (g dy - a - xhat b) / std in float.
    /// Writes the row's sum(dy xhat) and sum(dy) to <paramref name="terms"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OuterRowGradient(SampleNormDescriptor d, nint x, nint dy, nint gamma, nint std, nint dx,
        long s, double* terms)
    {
        int n = (int)d.Length;
        float* px = (float*)x + s * n, pdy = (float*)dy + s * n, pdx = (float*)dx + s * n;
        float g = ((float*)gamma)[s % d.Groups];
        double rstd = 1 / (double)((float*)std)[s];
        if (n == 0)
        {
            terms[0] = terms[1] = 0;
            return;
        }
        double x0 = px[0];
        var (sumX, sumD, sumDX) = ShiftedSums(px, new Dy(pdy), n, x0);
        int j;
        double invN = 1.0 / n, shifted = sumX * invN;
        double dgammaTerm = (sumDX - shifted * sumD) * rstd;
        terms[0] = dgammaTerm;
        terms[1] = sumD;
        double a = g * sumD * invN, b = g * dgammaTerm * invN;
        var c = RowCentre.Of(x0 + shifted, rstd);
        float af = (float)a, bf = (float)b;
        Vector512<float> mh = Vector512.Create(c.High), ml = Vector512.Create(c.Low), vg = Vector512.Create(g);
        Vector512<float> r = Vector512.Create(c.InverseStd), va = Vector512.Create(af), vb = Vector512.Create(bf);
        for (j = 0; j <= n - Lanes; j += Lanes)
        {
            var xhat = (Vector512.Load(px + j) - mh - ml) * r;
            var h = Vector512.Load(pdy + j) * vg;
            (Vector512.FusedMultiplyAdd(-xhat, vb, h - va) * r).Store(pdx + j);
        }
        for (; j < n; j++)
            pdx[j] = MathF.FusedMultiplyAdd(-c.Normalise(px[j]), bf, pdy[j] * g - af) * c.InverseStd;
    }
}
