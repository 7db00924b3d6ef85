using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Batch normalization on contiguous data viewed as (outer, channels, inner), see <see cref="BatchNormDescriptor"/>.
/// Per channel c, over the M = outer * inner values x of that channel:
/// <code>
///   mean = sum(x) / M,  var = sum((x - mean)^2) / M   (biased; two passes, double accumulators)
///   y    = gamma * (x - mean) / sqrt(var + eps) + beta
/// </code>
/// y may be the same span as x (in place). Statistics are accumulated in double for float input, and each
/// channel is reduced by one thread, so results do not depend on the thread count.
/// </summary>
public static unsafe class CpuBatchNorm
{
    /// <summary>Elements a thread should have before work is split: below ~32K elements the work takes
    /// microseconds, about what a dispatch costs.</summary>
    private const long Grain = 1 << 15;

    /// <summary>
    /// Training forward: normalises with the batch statistics, writes them for <see cref="Backward{T}"/>
    /// (<paramref name="savedMean"/>, <paramref name="savedInvStd"/> = 1 / sqrt(var + eps)) and updates the
    /// running statistics: running = running * momentum + batch * (1 - momentum). The running variance takes the
    /// biased batch variance (MXNet) unless <see cref="BatchNormDescriptor.UnbiasedRunningVar"/> (PyTorch).
    /// With no values per channel (outer * inner = 0) the saved mean is 0, the saved inverse std
    /// 1 / sqrt(eps), and the running statistics are left as they are.
    /// </summary>
    public static void ForwardTraining<T>(BatchNormDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> gamma,
        ReadOnlySpan<T> beta, Span<T> y, Span<T> savedMean, Span<T> savedInvStd, Span<T> runningMean,
        Span<T> runningVar) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "batch_norm";
        ArgumentNullException.ThrowIfNull(desc);
        CheckData(op, desc, "x", x.Length);
        CheckData(op, desc, "y", y.Length);
        CheckPerChannel(op, desc, "gamma", gamma.Length);
        CheckPerChannel(op, desc, "beta", beta.Length);
        CheckPerChannel(op, desc, "savedMean", savedMean.Length);
        CheckPerChannel(op, desc, "savedInvStd", savedInvStd.Length);
        CheckPerChannel(op, desc, "runningMean", runningMean.Length);
        CheckPerChannel(op, desc, "runningVar", runningVar.Length);
        if (desc.UnbiasedRunningVar && desc.ReductionSize == 1 && desc.Channels > 0)
            throw new ArgumentException(
                $"{op}: the unbiased running variance needs more than one value per channel, but " +
                $"{desc} has outer * inner = 1; use a batch larger than 1 or UnbiasedRunningVar = false.");
        fixed (T* px = x, pg = gamma, pb = beta, py = y, psm = savedMean, psi = savedInvStd)
        fixed (T* prm = runningMean, prv = runningVar)
        {
            ForwardTrainingCore<T>(desc, (nint)px, (nint)pg, (nint)pb, (nint)py, (nint)psm, (nint)psi,
                (nint)prm, (nint)prv);
        }
    }

    /// <summary>Inference forward: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta.</summary>
    public static void ForwardInference<T>(BatchNormDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> gamma,
        ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "batch_norm";
        ArgumentNullException.ThrowIfNull(desc);
        CheckData(op, desc, "x", x.Length);
        CheckData(op, desc, "y", y.Length);
        CheckPerChannel(op, desc, "gamma", gamma.Length);
        CheckPerChannel(op, desc, "beta", beta.Length);
        CheckPerChannel(op, desc, "runningMean", runningMean.Length);
        CheckPerChannel(op, desc, "runningVar", runningVar.Length);
        int channels = desc.Channels;
        var mean = new T[channels];
        var scale = new T[channels];
        for (int c = 0; c < channels; c++)
        {
            double invStd = 1.0 / Math.Sqrt(double.CreateTruncating(runningVar[c]) + desc.Epsilon);
            double g = desc.FixGamma ? 1.0 : double.CreateTruncating(gamma[c]);
            mean[c] = runningMean[c];
            scale[c] = T.CreateTruncating(g * invStd);
        }
        fixed (T* px = x, py = y, pm = mean, ps = scale, pb = beta)
        {
            NormalizeCore<T>(desc, (nint)px, (nint)py, (nint)pm, (nint)ps, (nint)pb);
        }
    }

    /// <summary>
    /// Backward of the training forward, given the statistics it saved. Overwrites all three gradients:
    /// <code>
    ///   xhat   = (x - mean) * invStd
    ///   dbeta  = sum(dy),  dgamma = sum(dy * xhat)      (dgamma = 0 with FixGamma)
    ///   dx     = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
    /// </code>
    /// dx may be the same span as dy.
    /// </summary>
    public static void Backward<T>(BatchNormDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> dy,
        ReadOnlySpan<T> gamma, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd, Span<T> dx, Span<T> dgamma,
        Span<T> dbeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "batch_norm_backward";
        ArgumentNullException.ThrowIfNull(desc);
        CheckData(op, desc, "x", x.Length);
        CheckData(op, desc, "dy", dy.Length);
        CheckData(op, desc, "dx", dx.Length);
        CheckPerChannel(op, desc, "gamma", gamma.Length);
        CheckPerChannel(op, desc, "savedMean", savedMean.Length);
        CheckPerChannel(op, desc, "savedInvStd", savedInvStd.Length);
        CheckPerChannel(op, desc, "dgamma", dgamma.Length);
        CheckPerChannel(op, desc, "dbeta", dbeta.Length);
        fixed (T* px = x, pdy = dy, pg = gamma, pm = savedMean, ps = savedInvStd, pdx = dx, pdg = dgamma)
        fixed (T* pdb = dbeta)
        {
            BackwardCore<T>(desc, (nint)px, (nint)pdy, (nint)pg, (nint)pm, (nint)ps, (nint)pdx, (nint)pdg,
                (nint)pdb);
        }
    }

    private static void CheckData(string op, BatchNormDescriptor desc, string name, int length)
    {
        if (length != desc.Count)
            throw new ArgumentException(
                $"{op}: {name} has {length} elements but the descriptor {desc} needs outer * channels * inner = " +
                $"{desc.Count}; pass a contiguous {name} of that size or fix the descriptor.");
    }

    private static void CheckPerChannel(string op, BatchNormDescriptor desc, string name, int length)
    {
        if (length != desc.Channels)
            throw new ArgumentException(
                $"{op}: {name} has {length} elements but x has {desc.Channels} channels (descriptor {desc}); " +
                $"{name} needs one element per channel.");
    }

    private static void ForwardTrainingCore<T>(BatchNormDescriptor desc, nint x, nint gamma, nint beta, nint y,
        nint savedMean, nint savedInvStd, nint runningMean, nint runningVar)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = desc.Channels;
        if (channels == 0) return;
        long m = desc.ReductionSize;
        var mean = new double[channels];
        var variance = new double[channels];
        Statistics<T>(desc, x, mean, variance);

        var gammaS = View<T>(gamma, channels);
        var savedMeanS = View<T>(savedMean, channels);
        var savedInvStdS = View<T>(savedInvStd, channels);
        var runningMeanS = View<T>(runningMean, channels);
        var runningVarS = View<T>(runningVar, channels);
        var meanT = new T[channels];
        var scale = new T[channels];
        double mom = desc.Momentum;
        // The running variance takes the biased batch variance by default, as MXNet does; PyTorch uses the
        // unbiased one (var * M / (M - 1)), hence the descriptor flag.
        double unbias = desc.UnbiasedRunningVar && m > 1 ? (double)m / (m - 1) : 1.0;
        for (int c = 0; c < channels; c++)
        {
            double invStd = 1.0 / Math.Sqrt(variance[c] + desc.Epsilon);
            double g = desc.FixGamma ? 1.0 : double.CreateTruncating(gammaS[c]);
            meanT[c] = T.CreateTruncating(mean[c]);
            scale[c] = T.CreateTruncating(g * invStd);
            savedMeanS[c] = meanT[c];
            savedInvStdS[c] = T.CreateTruncating(invStd);
            if (m == 0) continue;
            runningMeanS[c] = T.CreateTruncating(double.CreateTruncating(runningMeanS[c]) * mom + mean[c] * (1 - mom));
            runningVarS[c] = T.CreateTruncating(
                double.CreateTruncating(runningVarS[c]) * mom + variance[c] * unbias * (1 - mom));
        }
        fixed (T* pm = meanT, ps = scale)
        {
            NormalizeCore<T>(desc, x, y, (nint)pm, (nint)ps, beta);
        }
    }

    /// <summary>Per-channel mean and biased variance, two passes in double.</summary>
    private static void Statistics<T>(BatchNormDescriptor desc, nint x, double[] mean, double[] variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outer = desc.Outer, inner = desc.Inner, m = desc.ReductionSize;
        int channels = desc.Channels;
        if (m == 0) return;
        if (inner == 1)
        {
            // (outer, channels) rows: each thread owns a block of channels and walks the rows, so memory is read
            // row by row instead of with a stride of `channels`.
            CpuParallel.For(channels, Math.Max(1, Grain / m), (c0, c1) =>
            {
                int n = (int)(c1 - c0);
                var sum = new double[n];
                var sq = new double[n];
                for (long o = 0; o < outer; o++)
                {
                    var row = View<T>(x + (nint)((o * channels + c0) * sizeof(T)), n);
                    for (int j = 0; j < n; j++) sum[j] += double.CreateTruncating(row[j]);
                }
                for (int j = 0; j < n; j++) mean[c0 + j] = sum[j] / m;
                for (long o = 0; o < outer; o++)
                {
                    var row = View<T>(x + (nint)((o * channels + c0) * sizeof(T)), n);
                    for (int j = 0; j < n; j++)
                    {
                        double d = double.CreateTruncating(row[j]) - mean[c0 + j];
                        sq[j] += d * d;
                    }
                }
                for (int j = 0; j < n; j++) variance[c0 + j] = sq[j] / m;
            });
            return;
        }
        CpuParallel.For(channels, Math.Max(1, Grain / m), (c0, c1) =>
        {
            for (long c = c0; c < c1; c++)
            {
                double s = 0;
                for (long o = 0; o < outer; o++) s += Sum(Segment<T>(x, o, c, channels, inner));
                double mu = s / m;
                double q = 0;
                for (long o = 0; o < outer; o++) q += SumSquaredDeviation(Segment<T>(x, o, c, channels, inner), mu);
                mean[c] = mu;
                variance[c] = q / m;
            }
        });
    }

    /// <summary>y = (x - mean[c]) * scale[c] + shift[c].</summary>
    private static void NormalizeCore<T>(BatchNormDescriptor desc, nint x, nint y, nint mean, nint scale, nint shift)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outer = desc.Outer, inner = desc.Inner;
        int channels = desc.Channels;
        if (desc.Count == 0) return;
        if (inner == 1)
        {
            CpuParallel.For(outer, Math.Max(1, Grain / channels), (o0, o1) =>
            {
                var m = View<T>(mean, channels);
                var s = View<T>(scale, channels);
                var b = View<T>(shift, channels);
                for (long o = o0; o < o1; o++)
                {
                    nint offset = (nint)(o * channels * sizeof(T));
                    AffineRow(View<T>(x + offset, channels), View<T>(y + offset, channels), m, s, b);
                }
            });
            return;
        }
        CpuParallel.For(outer * channels, Math.Max(1, Grain / inner), (start, end) =>
        {
            var m = View<T>(mean, channels);
            var s = View<T>(scale, channels);
            var b = View<T>(shift, channels);
            for (long k = start; k < end; k++)
            {
                int c = (int)(k % channels);
                nint offset = (nint)(k * inner * sizeof(T));
                AffineSegment(View<T>(x + offset, inner), View<T>(y + offset, inner), m[c], s[c], b[c]);
            }
        });
    }

    private static void BackwardCore<T>(BatchNormDescriptor desc, nint x, nint dy, nint gamma, nint savedMean,
        nint savedInvStd, nint dx, nint dgamma, nint dbeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outer = desc.Outer, inner = desc.Inner, m = desc.ReductionSize;
        int channels = desc.Channels;
        if (channels == 0) return;
        var meanS = View<T>(savedMean, channels);
        var invStdS = View<T>(savedInvStd, channels);
        var meanD = new double[channels];
        for (int c = 0; c < channels; c++) meanD[c] = double.CreateTruncating(meanS[c]);

        // Per channel: sum(dy) and sum(dy * (x - mean)), in double.
        var sumDy = new double[channels];
        var sumDyXm = new double[channels];
        if (m > 0 && inner == 1)
        {
            CpuParallel.For(channels, Math.Max(1, Grain / m), (c0, c1) =>
            {
                int n = (int)(c1 - c0);
                for (long o = 0; o < outer; o++)
                {
                    nint offset = (nint)((o * channels + c0) * sizeof(T));
                    var xr = View<T>(x + offset, n);
                    var dyr = View<T>(dy + offset, n);
                    for (int j = 0; j < n; j++)
                    {
                        double g = double.CreateTruncating(dyr[j]);
                        sumDy[c0 + j] += g;
                        sumDyXm[c0 + j] += g * (double.CreateTruncating(xr[j]) - meanD[c0 + j]);
                    }
                }
            });
        }
        else if (m > 0)
        {
            CpuParallel.For(channels, Math.Max(1, Grain / m), (c0, c1) =>
            {
                for (long c = c0; c < c1; c++)
                {
                    double s = 0, sx = 0;
                    for (long o = 0; o < outer; o++)
                    {
                        var (a, b) = GradientSums(Segment<T>(dy, o, c, channels, inner),
                            Segment<T>(x, o, c, channels, inner), meanD[c]);
                        s += a;
                        sx += b;
                    }
                    sumDy[c] = s;
                    sumDyXm[c] = sx;
                }
            });
        }

        // dx = k1 * (dy - dyMean) + k2 * (x - mean) with k1 = gamma * invStd, dyMean = sum(dy) / M and
        // k2 = -k1 * invStd^2 * sum(dy * (x - mean)) / M: the formula in the summary with xhat expanded.
        // Subtracting dyMean before scaling keeps dx exact where it should cancel to 0 (one value per channel).
        var gammaS = View<T>(gamma, channels);
        var dgammaS = View<T>(dgamma, channels);
        var dbetaS = View<T>(dbeta, channels);
        var k1 = new T[channels];
        var k2 = new T[channels];
        var dyMean = new T[channels];
        for (int c = 0; c < channels; c++)
        {
            double invStd = double.CreateTruncating(invStdS[c]);
            double g = desc.FixGamma ? 1.0 : double.CreateTruncating(gammaS[c]);
            dbetaS[c] = T.CreateTruncating(sumDy[c]);
            dgammaS[c] = desc.FixGamma ? T.Zero : T.CreateTruncating(sumDyXm[c] * invStd);
            if (m == 0) continue;
            double a = g * invStd;
            k1[c] = T.CreateTruncating(a);
            k2[c] = T.CreateTruncating(-a * invStd * invStd * sumDyXm[c] / m);
            dyMean[c] = T.CreateTruncating(sumDy[c] / m);
        }
        if (desc.Count == 0) return;
        fixed (T* pk1 = k1, pk2 = k2, pk3 = dyMean)
        {
            nint a = (nint)pk1, b = (nint)pk2, d = (nint)pk3;
            if (inner == 1)
            {
                CpuParallel.For(outer, Math.Max(1, Grain / channels), (o0, o1) =>
                {
                    for (long o = o0; o < o1; o++)
                    {
                        nint offset = (nint)(o * channels * sizeof(T));
                        GradientRow(View<T>(dy + offset, channels), View<T>(x + offset, channels),
                            View<T>(dx + offset, channels), View<T>(savedMean, channels), View<T>(a, channels),
                            View<T>(b, channels), View<T>(d, channels));
                    }
                });
                return;
            }
            CpuParallel.For(outer * channels, Math.Max(1, Grain / inner), (start, end) =>
            {
                var meanT = View<T>(savedMean, channels);
                var k1s = View<T>(a, channels);
                var k2s = View<T>(b, channels);
                var dyMeans = View<T>(d, channels);
                for (long k = start; k < end; k++)
                {
                    int c = (int)(k % channels);
                    nint offset = (nint)(k * inner * sizeof(T));
                    GradientSegment(View<T>(dy + offset, inner), View<T>(x + offset, inner),
                        View<T>(dx + offset, inner), meanT[c], k1s[c], k2s[c], dyMeans[c]);
                }
            });
        }
    }

    private static Span<T> View<T>(nint p, long length) where T : unmanaged => new((void*)p, (int)length);

    /// <summary>The inner values of channel c in outer slice o.</summary>
    private static Span<T> Segment<T>(nint p, long o, long c, int channels, long inner) where T : unmanaged =>
        new((void*)(p + (nint)((o * channels + c) * inner * sizeof(T))), (int)inner);

    // ---- Contiguous-span helpers. Reductions accumulate in double; float gets a widening SIMD path. ----

    private static double Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return SumFloat(MemoryMarshal.Cast<T, float>(x));
        double s = 0;
        foreach (T v in x) s += double.CreateTruncating(v);
        return s;
    }

    private static double SumFloat(ReadOnlySpan<float> x)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        int i = 0, n = x.Length;
        double s = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<double> a = default, b = default;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
                a += lo;
                b += hi;
            }
            s = Vector512.Sum(a + b);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<double> a = default, b = default;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref p, (nuint)i));
                a += lo;
                b += hi;
            }
            s = Vector256.Sum(a + b);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            // ARM64 (AdvSimd): the widening is FCVTL/FCVTL2.
            Vector128<double> a = default, b = default;
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref p, (nuint)i));
                a += lo;
                b += hi;
            }
            s = Vector128.Sum(a + b);
        }
        for (; i < n; i++) s += Unsafe.Add(ref p, i);
        return s;
    }

    /// <summary>sum((x - mean)^2) in double.</summary>
    private static double SumSquaredDeviation<T>(ReadOnlySpan<T> x, double mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return SumSquaredDeviationFloat(MemoryMarshal.Cast<T, float>(x), mean);
        double s = 0;
        foreach (T v in x)
        {
            double d = double.CreateTruncating(v) - mean;
            s += d * d;
        }
        return s;
    }

    private static double SumSquaredDeviationFloat(ReadOnlySpan<float> x, double mean)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        int i = 0, n = x.Length;
        double s = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<double> a = default, b = default, m = Vector512.Create(mean);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
                lo -= m;
                hi -= m;
                a = Vector512.FusedMultiplyAdd(lo, lo, a);
                b = Vector512.FusedMultiplyAdd(hi, hi, b);
            }
            s = Vector512.Sum(a + b);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<double> a = default, b = default, m = Vector256.Create(mean);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref p, (nuint)i));
                lo -= m;
                hi -= m;
                a = Vector256.FusedMultiplyAdd(lo, lo, a);
                b = Vector256.FusedMultiplyAdd(hi, hi, b);
            }
            s = Vector256.Sum(a + b);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            Vector128<double> a = default, b = default, m = Vector128.Create(mean);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref p, (nuint)i));
                lo -= m;
                hi -= m;
                a = Vector128.FusedMultiplyAdd(lo, lo, a);
                b = Vector128.FusedMultiplyAdd(hi, hi, b);
            }
            s = Vector128.Sum(a + b);
        }
        for (; i < n; i++)
        {
            double d = Unsafe.Add(ref p, i) - mean;
            s += d * d;
        }
        return s;
    }

    /// <summary>(sum(dy), sum(dy * (x - mean))) in double.</summary>
    private static (double SumDy, double SumDyXm) GradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x,
        double mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return GradientSumsFloat(MemoryMarshal.Cast<T, float>(dy), MemoryMarshal.Cast<T, float>(x), mean);
        double s = 0, sx = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double g = double.CreateTruncating(dy[i]);
            s += g;
            sx += g * (double.CreateTruncating(x[i]) - mean);
        }
        return (s, sx);
    }

    private static (double, double) GradientSumsFloat(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, double mean)
    {
        ref float pg = ref MemoryMarshal.GetReference(dy);
        ref float px = ref MemoryMarshal.GetReference(x);
        int i = 0, n = x.Length;
        double s = 0, sx = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<double> a = default, b = default, m = Vector512.Create(mean);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (glo, ghi) = Vector512.Widen(Vector512.LoadUnsafe(ref pg, (nuint)i));
                var (xlo, xhi) = Vector512.Widen(Vector512.LoadUnsafe(ref px, (nuint)i));
                a += glo + ghi;
                b = Vector512.FusedMultiplyAdd(glo, xlo - m, b);
                b = Vector512.FusedMultiplyAdd(ghi, xhi - m, b);
            }
            s = Vector512.Sum(a);
            sx = Vector512.Sum(b);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            Vector256<double> a = default, b = default, m = Vector256.Create(mean);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (glo, ghi) = Vector256.Widen(Vector256.LoadUnsafe(ref pg, (nuint)i));
                var (xlo, xhi) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
                a += glo + ghi;
                b = Vector256.FusedMultiplyAdd(glo, xlo - m, b);
                b = Vector256.FusedMultiplyAdd(ghi, xhi - m, b);
            }
            s = Vector256.Sum(a);
            sx = Vector256.Sum(b);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            Vector128<double> a = default, b = default, m = Vector128.Create(mean);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var (glo, ghi) = Vector128.Widen(Vector128.LoadUnsafe(ref pg, (nuint)i));
                var (xlo, xhi) = Vector128.Widen(Vector128.LoadUnsafe(ref px, (nuint)i));
                a += glo + ghi;
                b = Vector128.FusedMultiplyAdd(glo, xlo - m, b);
                b = Vector128.FusedMultiplyAdd(ghi, xhi - m, b);
            }
            s = Vector128.Sum(a);
            sx = Vector128.Sum(b);
        }
        for (; i < n; i++)
        {
            double g = Unsafe.Add(ref pg, i);
            s += g;
            sx += g * (Unsafe.Add(ref px, i) - mean);
        }
        return (s, sx);
    }

    // ---- Elementwise helpers, SIMD for float and double through Vector512<T>, Vector256<T> and Vector128<T> ----
    // ---- (ARM64: AdvSimd; elsewhere the last one takes half a Vector256 of the tail). ----

    /// <summary>y = (x - mean) * scale + shift for one channel's contiguous values.</summary>
    private static void AffineSegment<T>(ReadOnlySpan<T> x, Span<T> y, T mean, T scale, T shift)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Vector512<T> m = Vector512.Create(mean), s = Vector512.Create(scale), b = Vector512.Create(shift);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                ((Vector512.LoadUnsafe(ref px, (nuint)i) - m) * s + b).StoreUnsafe(ref py, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Vector256<T> m = Vector256.Create(mean), s = Vector256.Create(scale), b = Vector256.Create(shift);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                ((Vector256.LoadUnsafe(ref px, (nuint)i) - m) * s + b).StoreUnsafe(ref py, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            Vector128<T> m = Vector128.Create(mean), s = Vector128.Create(scale), b = Vector128.Create(shift);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                ((Vector128.LoadUnsafe(ref px, (nuint)i) - m) * s + b).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref py, i) = (Unsafe.Add(ref px, i) - mean) * scale + shift;
    }

    /// <summary>y[c] = (x[c] - mean[c]) * scale[c] + shift[c] for one row of channels.</summary>
    private static void AffineRow<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale,
        ReadOnlySpan<T> shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        ref T pm = ref MemoryMarshal.GetReference(mean);
        ref T ps = ref MemoryMarshal.GetReference(scale);
        ref T pb = ref MemoryMarshal.GetReference(shift);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = (Vector512.LoadUnsafe(ref px, (nuint)i) - Vector512.LoadUnsafe(ref pm, (nuint)i)) *
                    Vector512.LoadUnsafe(ref ps, (nuint)i) + Vector512.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = (Vector256.LoadUnsafe(ref px, (nuint)i) - Vector256.LoadUnsafe(ref pm, (nuint)i)) *
                    Vector256.LoadUnsafe(ref ps, (nuint)i) + Vector256.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                var v = (Vector128.LoadUnsafe(ref px, (nuint)i) - Vector128.LoadUnsafe(ref pm, (nuint)i)) *
                    Vector128.LoadUnsafe(ref ps, (nuint)i) + Vector128.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref py, i) = (Unsafe.Add(ref px, i) - Unsafe.Add(ref pm, i)) * Unsafe.Add(ref ps, i) +
                Unsafe.Add(ref pb, i);
    }

    /// <summary>dx = k1 * (dy - dyMean) + k2 * (x - mean) for one channel's contiguous values.</summary>
    private static void GradientSegment<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> dx, T mean, T k1, T k2,
        T dyMean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T pg = ref MemoryMarshal.GetReference(dy);
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T pd = ref MemoryMarshal.GetReference(dx);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Vector512<T> m = Vector512.Create(mean), a = Vector512.Create(k1), b = Vector512.Create(k2),
                g = Vector512.Create(dyMean);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = a * (Vector512.LoadUnsafe(ref pg, (nuint)i) - g) +
                    b * (Vector512.LoadUnsafe(ref px, (nuint)i) - m);
                v.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Vector256<T> m = Vector256.Create(mean), a = Vector256.Create(k1), b = Vector256.Create(k2),
                g = Vector256.Create(dyMean);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = a * (Vector256.LoadUnsafe(ref pg, (nuint)i) - g) +
                    b * (Vector256.LoadUnsafe(ref px, (nuint)i) - m);
                v.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            Vector128<T> m = Vector128.Create(mean), a = Vector128.Create(k1), b = Vector128.Create(k2),
                g = Vector128.Create(dyMean);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                var v = a * (Vector128.LoadUnsafe(ref pg, (nuint)i) - g) +
                    b * (Vector128.LoadUnsafe(ref px, (nuint)i) - m);
                v.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref pd, i) = k1 * (Unsafe.Add(ref pg, i) - dyMean) + k2 * (Unsafe.Add(ref px, i) - mean);
    }

    /// <summary>dx[c] = k1[c] * (dy[c] - dyMean[c]) + k2[c] * (x[c] - mean[c]) for one row of channels.</summary>
    private static void GradientRow<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> dx, ReadOnlySpan<T> mean,
        ReadOnlySpan<T> k1, ReadOnlySpan<T> k2, ReadOnlySpan<T> dyMean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T pg = ref MemoryMarshal.GetReference(dy);
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T pd = ref MemoryMarshal.GetReference(dx);
        ref T pm = ref MemoryMarshal.GetReference(mean);
        ref T pa = ref MemoryMarshal.GetReference(k1);
        ref T pb = ref MemoryMarshal.GetReference(k2);
        ref T pc = ref MemoryMarshal.GetReference(dyMean);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = Vector512.LoadUnsafe(ref pa, (nuint)i) *
                    (Vector512.LoadUnsafe(ref pg, (nuint)i) - Vector512.LoadUnsafe(ref pc, (nuint)i)) +
                    Vector512.LoadUnsafe(ref pb, (nuint)i) *
                    (Vector512.LoadUnsafe(ref px, (nuint)i) - Vector512.LoadUnsafe(ref pm, (nuint)i));
                v.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref pa, (nuint)i) *
                    (Vector256.LoadUnsafe(ref pg, (nuint)i) - Vector256.LoadUnsafe(ref pc, (nuint)i)) +
                    Vector256.LoadUnsafe(ref pb, (nuint)i) *
                    (Vector256.LoadUnsafe(ref px, (nuint)i) - Vector256.LoadUnsafe(ref pm, (nuint)i));
                v.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                var v = Vector128.LoadUnsafe(ref pa, (nuint)i) *
                    (Vector128.LoadUnsafe(ref pg, (nuint)i) - Vector128.LoadUnsafe(ref pc, (nuint)i)) +
                    Vector128.LoadUnsafe(ref pb, (nuint)i) *
                    (Vector128.LoadUnsafe(ref px, (nuint)i) - Vector128.LoadUnsafe(ref pm, (nuint)i));
                v.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref pd, i) = Unsafe.Add(ref pa, i) * (Unsafe.Add(ref pg, i) - Unsafe.Add(ref pc, i)) +
                Unsafe.Add(ref pb, i) * (Unsafe.Add(ref px, i) - Unsafe.Add(ref pm, i));
    }
}
