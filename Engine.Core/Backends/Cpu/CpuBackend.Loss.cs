using System.Numerics;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterLoss()
    {
        Register(LossOps.CtcLoss, static (a, c, i, o) => Ctc(a, c, i, null, o[0]));
        Register(LossOps.CtcLossBackward, static (a, c, i, o) => Ctc(a, c, i[..^1], i[^1], o[0]));
    }

    /// <summary>Resolves the lengths (given, or all frames and the label up to its first padding value, which a
    /// negative label length also asks for), then runs
    /// CpuCtc: the loss when <paramref name="dloss"/> is null, else the gradient of the scores.</summary>
    private static void Ctc(CtcAttrs a, KernelContext c, TensorArg[] i, TensorArg? dloss, in TensorArg output)
    {
        string op = dloss is null ? "ctc_loss" : "_backward_ctc_loss";
        var data = c.Contiguous(i[0]);
        int time = data.Shape[0], batch = data.Shape[1], classes = data.Shape[2], width = i[1].Shape[1];
        var labels = Indices(c, i[1], op);
        int next = 2;
        var dataLengths = new int[batch];
        if (a.UseDataLengths) ToLengths(Indices(c, i[next++], op), dataLengths);
        else Array.Fill(dataLengths, time);
        var labelLengths = new int[batch];
        if (a.UseLabelLengths) ToLengths(Indices(c, i[next], op), labelLengths);
        else Array.Fill(labelLengths, -1);
        for (int n = 0; n < batch; n++)
        {
            if (labelLengths[n] >= 0) continue;
            // No length (or a negative one): the label runs up to its first padding value.
            int length = 0;
            while (length < width && labels[n * width + length] != a.Padding) length++;
            labelLengths[n] = length;
        }
        long doubles = CpuCtc.WorkspaceDoubles(time, batch, classes, width);
        var workspace = new TensorArg(c.Scratch(doubles * sizeof(double)),
            TensorLayout.Contiguous(new Shape(checked((int)doubles))), DType.Float64).Span<double>();
        int blank = a.BlankIndex(classes);
        if (data.DType == DType.Float32)
            Ctc<float>(time, batch, classes, width, blank, data, labels, dataLengths, labelLengths, dloss, c, output,
                workspace);
        else
            Ctc<double>(time, batch, classes, width, blank, data, labels, dataLengths, labelLengths, dloss, c, output,
                workspace);
    }

    private static void Ctc<T>(int time, int batch, int classes, int width, int blank, in TensorArg data,
        long[] labels, int[] dataLengths, int[] labelLengths, TensorArg? dloss, KernelContext c, in TensorArg output,
        Span<double> workspace) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dloss is not { } g)
            CpuCtc.Forward<T>(time, batch, classes, width, blank, data.Span<T>(), labels, dataLengths, labelLengths,
                output.Span<T>(), workspace);
        else
            CpuCtc.Backward<T>(time, batch, classes, width, blank, data.Span<T>(), labels, dataLengths,
                labelLengths, c.Contiguous(g).Span<T>(), output.Span<T>(), workspace);
    }

    private static void ToLengths(long[] values, int[] lengths)
    {
        for (int n = 0; n < lengths.Length; n++)
            lengths[n] = (int)Math.Clamp(values[n], -1, int.MaxValue);
    }
}
