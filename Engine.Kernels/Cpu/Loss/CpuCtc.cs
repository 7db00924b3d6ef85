using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Connectionist temporal classification (Graves et al., 2006) over unnormalised scores x of shape (T, N, C):
/// each sample's loss is -log p(label | x), the sum over every frame-level path that collapses to the label
/// (merge repeats, then drop blanks) of the product of softmax(x_t) along the path. The forward variables alpha
/// and backward variables beta run over the label extended with blanks, l' = (b, l1, b, l2, ..., b), of length
/// S = 2L + 1, in log space so that long sequences do not underflow:
/// <code>
///   alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2) if l'_s != b and l'_s != l'_{s-2}])
///                + log y_t(l'_s)
///   log p      = logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2))
///   dloss/dx_t(c) = y_t(c) - exp(logsumexp_{s : l'_s = c}(alpha_t(s) + beta_t(s)) - log y_t(c) - log p)
/// </code>
/// where beta mirrors alpha from the end and both include y_t(l'_s). A label that no path of the sample's length
/// can produce (too long, or too many repeats) has p = 0: its loss is +infinity and its gradient 0. Frames at and
/// after a sample's length get gradient 0. Sums are in double whatever the element type.
/// </summary>
public static unsafe class CpuCtc
{
    /// <summary>Doubles of workspace that <see cref="Forward{T}"/> and <see cref="Backward{T}"/> need: per sample,
    /// the log-softmax of its frames and the alpha and beta tables.</summary>
    public static long WorkspaceDoubles(int time, int batch, int alphabet, int maxLabel) =>
        (long)batch * time * (alphabet + 2L * (2L * maxLabel + 1));

    /// <summary>The loss of every sample. <paramref name="labels"/> is (N, maxLabel) row-major; only the first
    /// labelLengths[n] entries of row n are read, each in [0, C) and not the blank.</summary>
    public static void Forward<T>(int time, int batch, int alphabet, int maxLabel, int blank, ReadOnlySpan<T> data,
        ReadOnlySpan<long> labels, ReadOnlySpan<int> dataLengths, ReadOnlySpan<int> labelLengths, Span<T> loss,
        Span<double> workspace) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check("ctc_loss", time, batch, alphabet, maxLabel, blank, data.Length, labels, dataLengths, labelLengths,
            workspace.Length);
        if (loss.Length != batch)
            throw new ArgumentException($"ctc_loss: loss has {loss.Length} elements for a batch of {batch}.");
        fixed (T* px = data, pl = loss)
        fixed (long* plab = labels)
        fixed (int* pdl = dataLengths, pll = labelLengths)
        fixed (double* pw = workspace)
        {
            var p = new Pointers((nint)px, (nint)plab, (nint)pdl, (nint)pll, (nint)pw, 0, 0, (nint)pl);
            var shape = new Sizes(time, batch, alphabet, maxLabel, blank);
            CpuParallel.For(batch, 1, (start, end) =>
            {
                for (long n = start; n < end; n++) Sample<T>(shape, p, (int)n, backward: false);
            });
        }
    }

    /// <summary>dx (T, N, C) = dloss[n] * dloss_n/dx, zero on frames past a sample's length.</summary>
    public static void Backward<T>(int time, int batch, int alphabet, int maxLabel, int blank, ReadOnlySpan<T> data,
        ReadOnlySpan<long> labels, ReadOnlySpan<int> dataLengths, ReadOnlySpan<int> labelLengths,
        ReadOnlySpan<T> dloss, Span<T> dx, Span<double> workspace) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check("_backward_ctc_loss", time, batch, alphabet, maxLabel, blank, data.Length, labels, dataLengths,
            labelLengths, workspace.Length);
        if (dloss.Length != batch || dx.Length != data.Length)
            throw new ArgumentException(
                $"_backward_ctc_loss: dloss has {dloss.Length} elements for a batch of {batch} and dx " +
                $"{dx.Length} for {data.Length} scores; they must match.");
        fixed (T* px = data, pg = dloss, pdx = dx)
        fixed (long* plab = labels)
        fixed (int* pdl = dataLengths, pll = labelLengths)
        fixed (double* pw = workspace)
        {
            var p = new Pointers((nint)px, (nint)plab, (nint)pdl, (nint)pll, (nint)pw, (nint)pg, (nint)pdx, 0);
            var shape = new Sizes(time, batch, alphabet, maxLabel, blank);
            CpuParallel.For(batch, 1, (start, end) =>
            {
                for (long n = start; n < end; n++) Sample<T>(shape, p, (int)n, backward: true);
            });
        }
    }

    private readonly record struct Sizes(int Time, int Batch, int Alphabet, int MaxLabel, int Blank)
    {
        public int Extended => 2 * MaxLabel + 1;

        public long PerSample => (long)Time * (Alphabet + 2L * Extended);
    }

    private readonly record struct Pointers(nint Data, nint Labels, nint DataLengths, nint LabelLengths,
        nint Workspace, nint DLoss, nint Dx, nint Loss);

    private static void Sample<T>(Sizes z, Pointers p, int n, bool backward)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int frames = ((int*)p.DataLengths)[n], length = ((int*)p.LabelLengths)[n];
        int c = z.Alphabet, s = 2 * length + 1, stride = z.Extended;
        double* lp = (double*)p.Workspace + n * z.PerSample;
        double* alpha = lp + (long)z.Time * c;
        double* beta = alpha + (long)z.Time * stride;
        long* label = (long*)p.Labels + (long)n * z.MaxLabel;
        T* x = (T*)p.Data;
        for (int t = 0; t < frames; t++) LogSoftmax(x + ((long)t * z.Batch + n) * c, lp + (long)t * c, c);

        double logP = Alpha(lp, alpha, label, frames, s, stride, c, z.Blank);
        if (!backward)
        {
            ((T*)p.Loss)[n] = T.CreateTruncating(-logP);
            return;
        }
        T* dx = (T*)p.Dx;
        double g = double.CreateTruncating(((T*)p.DLoss)[n]);
        for (int t = frames; t < z.Time; t++)
            new Span<T>(dx + ((long)t * z.Batch + n) * c, c).Clear();
        if (frames == 0 || double.IsNegativeInfinity(logP))
        {
            for (int t = 0; t < frames; t++) new Span<T>(dx + ((long)t * z.Batch + n) * c, c).Clear();
            return;
        }
        Beta(lp, beta, label, frames, s, stride, c, z.Blank);
        Span<double> occupancy = c <= 512 ? stackalloc double[c] : new double[c];
        for (int t = 0; t < frames; t++)
        {
            // log sum over the positions s holding symbol k of alpha_t(s) beta_t(s).
            occupancy.Fill(double.NegativeInfinity);
            double* a = alpha + (long)t * stride, b = beta + (long)t * stride;
            for (int k = 0; k < s; k++)
            {
                int symbol = Symbol(label, k, z.Blank);
                occupancy[symbol] = LogAdd(occupancy[symbol], a[k] + b[k]);
            }
            double* row = lp + (long)t * c;
            T* d = dx + ((long)t * z.Batch + n) * c;
            for (int k = 0; k < c; k++)
            {
                double grad = Math.Exp(row[k]) - Math.Exp(occupancy[k] - row[k] - logP);
                d[k] = T.CreateTruncating(g * grad);
            }
        }
    }

    private static double Alpha(double* lp, double* alpha, long* label, int frames, int s, int stride, int c,
        int blank)
    {
        if (frames == 0) return s == 1 ? 0 : double.NegativeInfinity;
        new Span<double>(alpha, s).Fill(double.NegativeInfinity);
        alpha[0] = lp[blank];
        if (s > 1) alpha[1] = lp[Symbol(label, 1, blank)];
        for (int t = 1; t < frames; t++)
        {
            double* prev = alpha + (long)(t - 1) * stride, cur = alpha + (long)t * stride, row = lp + (long)t * c;
            for (int k = 0; k < s; k++)
            {
                double v = prev[k];
                if (k >= 1) v = LogAdd(v, prev[k - 1]);
                if (SkipAllowed(label, k, blank)) v = LogAdd(v, prev[k - 2]);
                cur[k] = v + row[Symbol(label, k, blank)];
            }
        }
        double* last = alpha + (long)(frames - 1) * stride;
        return s > 1 ? LogAdd(last[s - 1], last[s - 2]) : last[0];
    }

    private static void Beta(double* lp, double* beta, long* label, int frames, int s, int stride, int c,
        int blank)
    {
        double* end = beta + (long)(frames - 1) * stride, lastRow = lp + (long)(frames - 1) * c;
        new Span<double>(end, s).Fill(double.NegativeInfinity);
        end[s - 1] = lastRow[blank];
        if (s > 1) end[s - 2] = lastRow[Symbol(label, s - 2, blank)];
        for (int t = frames - 2; t >= 0; t--)
        {
            double* next = beta + (long)(t + 1) * stride, cur = beta + (long)t * stride, row = lp + (long)t * c;
            for (int k = 0; k < s; k++)
            {
                double v = next[k];
                if (k + 1 < s) v = LogAdd(v, next[k + 1]);
                if (k + 2 < s && SkipAllowed(label, k + 2, blank)) v = LogAdd(v, next[k + 2]);
                cur[k] = v + row[Symbol(label, k, blank)];
            }
        }
    }

    /// <summary>The symbol at position k of the extended label: blanks at even positions.</summary>
    private static int Symbol(long* label, int k, int blank) => (k & 1) == 0 ? blank : (int)label[k >> 1];

    /// <summary>A path may jump from s-2 to s over a blank when l'_s is a symbol that differs from l'_{s-2}.
    /// </summary>
    private static bool SkipAllowed(long* label, int k, int blank) =>
        k >= 2 && (k & 1) == 1 && label[k >> 1] != label[(k >> 1) - 1];

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }

    private static void LogSoftmax<T>(T* x, double* y, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < c; k++) max = Math.Max(max, double.CreateTruncating(x[k]));
        double sum = 0;
        for (int k = 0; k < c; k++) sum += Math.Exp(double.CreateTruncating(x[k]) - max);
        double log = max + Math.Log(sum);
        for (int k = 0; k < c; k++) y[k] = double.CreateTruncating(x[k]) - log;
    }

    internal static void Check(string op, int time, int batch, int alphabet, int maxLabel, int blank, int dataLength,
        ReadOnlySpan<long> labels, ReadOnlySpan<int> dataLengths, ReadOnlySpan<int> labelLengths, int workspace)
    {
        if (time < 0 || batch < 0 || alphabet < 1 || maxLabel < 0 || (long)time * batch * alphabet != dataLength)
            throw new ArgumentException(
                $"{op}: {dataLength} scores do not make (time {time}, batch {batch}, alphabet {alphabet}).");
        if (blank < 0 || blank >= alphabet)
            throw new ArgumentException($"{op}: blank {blank} is not a class of an alphabet of {alphabet}.");
        if (labels.Length != (long)batch * maxLabel || dataLengths.Length != batch || labelLengths.Length != batch)
            throw new ArgumentException(
                $"{op}: labels ({labels.Length}) and lengths ({dataLengths.Length}, {labelLengths.Length}) do not " +
                $"match a batch of {batch} with labels of up to {maxLabel}.");
        if (workspace < WorkspaceDoubles(time, batch, alphabet, maxLabel))
            throw new ArgumentException(
                $"{op}: workspace of {workspace} doubles, {WorkspaceDoubles(time, batch, alphabet, maxLabel)} needed.");
        for (int n = 0; n < batch; n++)
        {
            if (dataLengths[n] < 0 || dataLengths[n] > time)
                throw new ArgumentException(
                    $"{op}: sequence length {dataLengths[n]} of sample {n} is outside [0, {time}]; give lengths up " +
                    "to the scores' time axis.");
            if (labelLengths[n] < 0 || labelLengths[n] > maxLabel)
                throw new ArgumentException(
                    $"{op}: label length {labelLengths[n]} of sample {n} is outside [0, {maxLabel}] (the label " +
                    "width).");
            for (int k = 0; k < labelLengths[n]; k++)
            {
                long v = labels[n * maxLabel + k];
                if (v < 0 || v >= alphabet || v == blank)
                    throw new ArgumentException(
                        $"{op}: label {v} at (sample {n}, position {k}) is not a symbol: symbols are 0 to " +
                        $"{alphabet - 1} except the blank {blank}; pad shorter labels after their end, or give " +
                        "label lengths.");
            }
        }
    }
}
