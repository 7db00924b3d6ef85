using System.Numerics;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// CTC loss and its gradient on the GPU, float32 and float64: the recursion of <see cref="Cpu.CpuCtc"/> (log-space
/// alpha and beta over the label extended with blanks, sums in double, the same workspace layout) with one group
/// per sample. The group's threads split the frames for the log-softmax and the gradient, and the positions of
/// the extended label for each time step of alpha and beta, with a barrier between steps. Labels and lengths are
/// small and checked on the host (as the CPU checks them) before they are uploaded with, per label position, a
/// link to the next position of the same symbol, so the gradient sums each symbol's positions without a table
/// per class.
/// </summary>
public static class GpuCtc
{
    /// <summary>Int32 elements of the uploaded labels, links and lengths.</summary>
    public static long IndexInts(int batch, int maxLabel) => 2L * batch * maxLabel + 2L * batch;

    /// <summary>Where the kernel finds its sizes and the parts of the uploaded integers.</summary>
    public struct CtcShape
    {
        public int Time, Batch, Alphabet, MaxLabel, Blank;

        /// <summary>Offsets in the integers: labels (N, L) at 0, then links (N, L), data and label lengths (N).
        /// </summary>
        public int Links, DataLengths, LabelLengths;
    }

    /// <summary>The loss of every sample into <paramref name="loss"/> (N,).</summary>
    public static void Forward(GpuRuntime runtime, int time, int batch, int alphabet, int maxLabel, int blank,
        in TensorArg data, long[] labels, int[] dataLengths, int[] labelLengths, in TensorArg loss,
        in TensorArg indices, in TensorArg workspace)
    {
        const string op = "ctc_loss";
        if (loss.Size != batch)
            throw new ArgumentException($"{op}: loss has {loss.Size} elements for a batch of {batch}.");
        if (data.DType == DType.Float64)
            Run<double, DoubleReal>(runtime, op, time, batch, alphabet, maxLabel, blank, data, labels, dataLengths,
                labelLengths, loss, loss, indices, workspace, backward: false);
        else
            Run<float, FloatReal>(runtime, op, time, batch, alphabet, maxLabel, blank, data, labels, dataLengths,
                labelLengths, loss, loss, indices, workspace, backward: false);
    }

    /// <summary>dx (T, N, C) = dloss[n] * dloss_n/dx, zero on frames past a sample's length.</summary>
    public static void Backward(GpuRuntime runtime, int time, int batch, int alphabet, int maxLabel, int blank,
        in TensorArg data, long[] labels, int[] dataLengths, int[] labelLengths, in TensorArg dloss,
        in TensorArg dx, in TensorArg indices, in TensorArg workspace)
    {
        const string op = "_backward_ctc_loss";
        if (dloss.Size != batch || dx.Size != data.Size)
            throw new ArgumentException(
                $"{op}: dloss has {dloss.Size} elements for a batch of {batch} and dx {dx.Size} for {data.Size} " +
                "scores; they must match.");
        if (data.DType == DType.Float64)
            Run<double, DoubleReal>(runtime, op, time, batch, alphabet, maxLabel, blank, data, labels, dataLengths,
                labelLengths, dloss, dx, indices, workspace, backward: true);
        else
            Run<float, FloatReal>(runtime, op, time, batch, alphabet, maxLabel, blank, data, labels, dataLengths,
                labelLengths, dloss, dx, indices, workspace, backward: true);
    }

    private static void Run<T, TReal>(GpuRuntime runtime, string op, int time, int batch, int alphabet,
        int maxLabel, int blank, in TensorArg data, long[] labels, int[] dataLengths, int[] labelLengths,
        in TensorArg dloss, in TensorArg result, in TensorArg indices, in TensorArg workspace, bool backward)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        long doubles = Cpu.CpuCtc.WorkspaceDoubles(time, batch, alphabet, maxLabel);
        Cpu.CpuCtc.Check(op, time, batch, alphabet, maxLabel, blank, checked((int)data.Size), labels, dataLengths,
            labelLengths, checked((int)Math.Min(workspace.Size, int.MaxValue)));
        if (doubles > GpuTensor.MaxElements)
            throw new NotSupportedException(
                $"{op}: the alpha-beta workspace of {doubles} doubles exceeds 2^31 - 1 elements; split the batch.");
        if (indices.Size < IndexInts(batch, maxLabel))
            throw new ArgumentException($"{op}: {indices.Size} index integers, {IndexInts(batch, maxLabel)} needed.");
        if (batch == 0) return;
        var ints = Pack(batch, maxLabel, labels, dataLengths, labelLengths);
        runtime.CopyFromHost(MemoryMarshal.AsBytes(ints.AsSpan()), indices.Buffer, indices.Offset * sizeof(int));
        var shape = new CtcShape
        {
            Time = time, Batch = batch, Alphabet = alphabet, MaxLabel = maxLabel, Blank = blank,
            Links = batch * maxLabel, DataLengths = 2 * batch * maxLabel, LabelLengths = 2 * batch * maxLabel + batch,
        };
        // A warp per 32 positions of the extended label, up to the device's group size.
        int threads = Math.Clamp((2 * maxLabel + 1 + 31) / 32 * 32, 32, runtime.GroupSize);
        var config = new KernelConfig(batch, threads);
        var dataView = data.Elements<T>(runtime, op);
        var intView = indices.Elements<int>(runtime, op);
        var work = workspace.Elements<double>(runtime, op);
        var dlossView = dloss.Elements<T>(runtime, op);
        var resultView = result.Elements<T>(runtime, op);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<int>, ArrayView<double>, ArrayView<T>, ArrayView<T>, CtcShape,
            int, TReal>(Kernel<T, TReal>)(runtime.Stream, config, dataView, intView, work, dlossView, resultView,
            shape, backward ? 1 : 0, default);
    }

    /// <summary>
    /// Labels, then per label position ((next position of the same symbol + 1) &lt;&lt; 1) | (1 when this is the
    /// symbol's first position), then the data and label lengths.
    /// </summary>
    private static int[] Pack(int batch, int maxLabel, long[] labels, int[] dataLengths, int[] labelLengths)
    {
        var ints = new int[IndexInts(batch, maxLabel)];
        int links = batch * maxLabel;
        for (int n = 0; n < batch; n++)
        {
            int row = n * maxLabel;
            for (int j = 0; j < maxLabel; j++) ints[row + j] = (int)Math.Clamp(labels[row + j], -1, int.MaxValue);
            for (int j = 0; j < labelLengths[n]; j++)
            {
                bool first = true;
                for (int p = 0; p < j && first; p++) first = labels[row + p] != labels[row + j];
                int next = -1;
                for (int p = j + 1; p < labelLengths[n] && next < 0; p++)
                    if (labels[row + p] == labels[row + j]) next = p;
                ints[links + row + j] = ((next + 1) << 1) | (first ? 1 : 0);
            }
            ints[2 * links + n] = dataLengths[n];
            ints[2 * links + batch + n] = labelLengths[n];
        }
        return ints;
    }

    private static double LogAdd(double a, double b)
    {
        if (a == double.NegativeInfinity) return b;
        if (b == double.NegativeInfinity) return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }

    /// <summary>The symbol at position k of the extended label: blanks at even positions.</summary>
    private static int Symbol(ArrayView<int> ints, int label, int k, int blank) =>
        (k & 1) == 0 ? blank : ints[label + (k >> 1)];

    /// <summary>A path may jump from s-2 to s over a blank when l'_s is a symbol that differs from l'_{s-2}.
    /// </summary>
    private static bool SkipAllowed(ArrayView<int> ints, int label, int k) =>
        k >= 2 && (k & 1) == 1 && ints[label + (k >> 1)] != ints[label + (k >> 1) - 1];

    /// <summary>
    /// One group per sample: log-softmax of its frames, alpha, and either the loss (thread 0) or beta and the
    /// gradient. Conditions that end the kernel early are the same for every thread of a group, so every thread
    /// reaches every barrier.
    /// </summary>
    private static void Kernel<T, TReal>(ArrayView<T> data, ArrayView<int> ints, ArrayView<double> ws,
        ArrayView<T> dloss, ArrayView<T> result, CtcShape z, int backward, TReal real)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        int n = Grid.IdxX, tid = Group.IdxX, threads = Group.DimX;
        int frames = ints[z.DataLengths + n], length = ints[z.LabelLengths + n];
        int c = z.Alphabet, s = 2 * length + 1, stride = 2 * z.MaxLabel + 1, label = n * z.MaxLabel;
        int lp = n * z.Time * (c + 2 * stride), alpha = lp + z.Time * c, beta = alpha + z.Time * stride;
        for (int t = tid; t < frames; t += threads)
        {
            int x = (t * z.Batch + n) * c, row = lp + t * c;
            double max = double.NegativeInfinity;
            for (int k = 0; k < c; k++) max = Math.Max(max, real.ToDouble(data[x + k]));
            double sum = 0;
            for (int k = 0; k < c; k++) sum += Math.Exp(real.ToDouble(data[x + k]) - max);
            double log = max + Math.Log(sum);
            for (int k = 0; k < c; k++) ws[row + k] = real.ToDouble(data[x + k]) - log;
        }
        Group.Barrier();

        double logP = s == 1 ? 0 : double.NegativeInfinity;
        if (frames > 0)
        {
            for (int k = tid; k < s; k += threads)
                ws[alpha + k] = k < 2 ? ws[lp + Symbol(ints, label, k, z.Blank)] : double.NegativeInfinity;
            Group.Barrier();
            for (int t = 1; t < frames; t++)
            {
                int prev = alpha + (t - 1) * stride, row = lp + t * c;
                for (int k = tid; k < s; k += threads)
                {
                    double v = ws[prev + k];
                    if (k >= 1) v = LogAdd(v, ws[prev + k - 1]);
                    if (SkipAllowed(ints, label, k)) v = LogAdd(v, ws[prev + k - 2]);
                    ws[prev + stride + k] = v + ws[row + Symbol(ints, label, k, z.Blank)];
                }
                Group.Barrier();
            }
            int last = alpha + (frames - 1) * stride;
            logP = s > 1 ? LogAdd(ws[last + s - 1], ws[last + s - 2]) : ws[last];
        }
        if (backward == 0)
        {
            if (tid == 0) result[n] = real.FromDouble(-logP);
            return;
        }

        double g = real.ToDouble(dloss[n]);
        bool impossible = frames == 0 || logP == double.NegativeInfinity;
        // Frames past the length, and every frame of a sample no path can produce, get gradient 0.
        int from = impossible ? 0 : frames;
        for (int u = tid; u < (z.Time - from) * c; u += threads)
        {
            int t = from + u / c;
            result[(t * z.Batch + n) * c + u % c] = real.FromDouble(0);
        }
        if (impossible) return;

        int end = beta + (frames - 1) * stride, lastRow = lp + (frames - 1) * c;
        for (int k = tid; k < s; k += threads)
        {
            ws[end + k] = k == s - 1 ? ws[lastRow + z.Blank]
                : k == s - 2 ? ws[lastRow + Symbol(ints, label, k, z.Blank)] : double.NegativeInfinity;
        }
        Group.Barrier();
        for (int t = frames - 2; t >= 0; t--)
        {
            int next = beta + (t + 1) * stride, row = lp + t * c;
            for (int k = tid; k < s; k += threads)
            {
                double v = ws[next + k];
                if (k + 1 < s) v = LogAdd(v, ws[next + k + 1]);
                if (k + 2 < s && SkipAllowed(ints, label, k + 2)) v = LogAdd(v, ws[next + k + 2]);
                ws[next - stride + k] = v + ws[row + Symbol(ints, label, k, z.Blank)];
            }
            Group.Barrier();
        }

        for (int t = tid; t < frames; t += threads)
        {
            int a = alpha + t * stride, b = beta + t * stride, row = lp + t * c, d = (t * z.Batch + n) * c;
            // A class on no position of the label: y_t(k) - exp(-inf) = y_t(k).
            for (int k = 0; k < c; k++) result[d + k] = real.FromDouble(g * Math.Exp(ws[row + k]));
            // log sum over the positions holding symbol k of alpha_t(s) beta_t(s), positions in increasing order.
            double blankSum = double.NegativeInfinity;
            for (int k = 0; k < s; k += 2) blankSum = LogAdd(blankSum, ws[a + k] + ws[b + k]);
            Write(result, d, z.Blank, g, ws[row + z.Blank], blankSum, logP, real);
            for (int j = 0; j < length; j++)
            {
                int link = ints[z.Links + label + j];
                if ((link & 1) == 0) continue;
                double sum = double.NegativeInfinity;
                for (int p = j; p >= 0; p = (ints[z.Links + label + p] >> 1) - 1)
                    sum = LogAdd(sum, ws[a + 2 * p + 1] + ws[b + 2 * p + 1]);
                int symbol = ints[label + j];
                Write(result, d, symbol, g, ws[row + symbol], sum, logP, real);
            }
        }
    }

    private static void Write<T, TReal>(ArrayView<T> result, int d, int k, double g, double logY, double occupancy,
        double logP, TReal real) where T : unmanaged where TReal : struct, IGpuReal<T> =>
        result[d + k] = real.FromDouble(g * (Math.Exp(logY) - Math.Exp(occupancy - logY - logP)));
}
