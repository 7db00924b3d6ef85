using System.Globalization;
using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Softmax cross-entropy of logits (batch, classes) against class-index labels, fused so that it stays finite
/// for any logits:
/// <code>
///   loss_i = -log_softmax(x_i)[label_i] = (max_i - x_i[label_i]) + log(sum_j exp(x_ij - max_i))
///   dx_i   = (softmax(x_i) - onehot(label_i)) * dloss_i
/// </code>
/// Labels may be any numeric type (int, long, or float as MXNet passes them) holding an integer in
/// [0, classes); they are all checked before anything is written.
/// </summary>
public static unsafe class CpuSoftmaxCrossEntropy
{
    /// <summary>Elements a thread should have before work is split (~32K: tens of microseconds).</summary>
    private const long Grain = 1 << 15;

    /// <summary>Per-sample loss: <paramref name="loss"/> has one element per row of <paramref name="logits"/>.
    /// </summary>
    public static void Forward<T, TLabel>(int batch, int classes, ReadOnlySpan<T> logits,
        ReadOnlySpan<TLabel> labels, Span<T> loss)
        where T : unmanaged, IFloatingPointIeee754<T> where TLabel : unmanaged, INumberBase<TLabel>
    {
        const string op = "softmax_cross_entropy";
        CheckSizes(op, batch, classes, logits.Length);
        CheckPerSample(op, "labels", labels.Length, batch);
        CheckPerSample(op, "loss", loss.Length, batch);
        int[] index = ClassIndices(op, labels, classes);
        fixed (T* px = logits, pl = loss)
        {
            ForwardCore<T>(batch, classes, (nint)px, index, (nint)pl);
        }
    }

    /// <summary>Gradient with respect to the logits, given the gradient of each sample's loss.</summary>
    public static void Backward<T, TLabel>(int batch, int classes, ReadOnlySpan<T> logits,
        ReadOnlySpan<TLabel> labels, ReadOnlySpan<T> dloss, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> where TLabel : unmanaged, INumberBase<TLabel>
    {
        const string op = "softmax_cross_entropy_backward";
        CheckSizes(op, batch, classes, logits.Length);
        CheckPerSample(op, "labels", labels.Length, batch);
        CheckPerSample(op, "dloss", dloss.Length, batch);
        if (dx.Length != logits.Length)
            throw new ArgumentException(
                $"{op}: dx has {dx.Length} elements but the logits (batch {batch}, classes {classes}) have " +
                $"{logits.Length}; dx must have the logits' shape.");
        int[] index = ClassIndices(op, labels, classes);
        fixed (T* px = logits, pg = dloss, pdx = dx)
        {
            BackwardCore<T>(batch, classes, (nint)px, index, (nint)pg, (nint)pdx);
        }
    }

    private static void CheckSizes(string op, int batch, int classes, int logitsLength)
    {
        if (batch < 0 || classes < 0)
            throw new ArgumentOutOfRangeException(nameof(batch),
                $"{op}: sizes must be non-negative, got (batch {batch}, classes {classes}).");
        if (logitsLength != (long)batch * classes)
            throw new ArgumentException(
                $"{op}: logits have {logitsLength} elements but (batch {batch}, classes {classes}) needs " +
                $"{(long)batch * classes}; pass contiguous logits of shape (batch, classes).");
    }

    private static void CheckPerSample(string op, string name, int length, int batch)
    {
        if (length != batch)
            throw new ArgumentException(
                $"{op}: {name} has {length} elements but the batch has {batch} samples; " +
                $"{name} needs one element per sample.");
    }

    private static int[] ClassIndices<TLabel>(string op, ReadOnlySpan<TLabel> labels, int classes)
        where TLabel : unmanaged, INumberBase<TLabel>
    {
        var index = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            TLabel label = labels[i];
            long k = TLabel.IsInteger(label) ? long.CreateSaturating(label) : -1;
            if (!TLabel.IsInteger(label) || k < 0 || k >= classes)
                throw new ArgumentException(
                    $"{op}: label {label.ToString(null, CultureInfo.InvariantCulture)} at index {i} is out of " +
                    $"range for {classes} classes; labels must be integers in [0, {classes}).");
            index[i] = (int)k;
        }
        return index;
    }

    private static void ForwardCore<T>(int batch, int classes, nint logits, int[] label, nint loss)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch == 0) return;
        CpuParallel.For(batch, Math.Max(1, Grain / Math.Max(1, classes)), (r0, r1) =>
        {
            var lossS = new Span<T>((void*)loss, batch);
            for (long r = r0; r < r1; r++)
            {
                var row = new ReadOnlySpan<T>((void*)(logits + (nint)(r * classes * sizeof(T))), classes);
                var (max, sum) = CpuSoftmax.MaxAndSumExp(row);
                lossS[(int)r] = max - row[label[r]] + T.Log(sum);
            }
        });
    }

    private static void BackwardCore<T>(int batch, int classes, nint logits, int[] label, nint dloss, nint dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch == 0) return;
        CpuParallel.For(batch, Math.Max(1, Grain / Math.Max(1, classes)), (r0, r1) =>
        {
            var g = new ReadOnlySpan<T>((void*)dloss, batch);
            for (long r = r0; r < r1; r++)
            {
                nint offset = (nint)(r * classes * sizeof(T));
                var row = new ReadOnlySpan<T>((void*)(logits + offset), classes);
                var dxr = new Span<T>((void*)(dx + offset), classes);
                CpuSoftmax.SoftmaxRow(row, dxr, T.One, g[(int)r]);
                dxr[label[r]] -= g[(int)r];
            }
        });
    }
}
