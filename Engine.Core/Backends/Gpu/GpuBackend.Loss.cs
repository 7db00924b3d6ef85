using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>CTC loss and its gradient: a group per sample on the device (<see cref="GpuCtc"/>); the labels and
    /// lengths are read and checked on the host first, as the CPU kernel checks them.</summary>
    private void RegisterLoss()
    {
        Register(LossOps.CtcLoss, static (a, c, i, o) => Ctc(a, c, i, null, o[0]));
        Register(LossOps.CtcLossBackward, static (a, c, i, o) => Ctc(a, c, i[..^1], i[^1], o[0]));
    }

    /// <summary>Resolves the lengths as the CPU backend does (given, or all frames and the label up to its first
    /// padding value, which a negative label length also asks for), then runs the loss when
    /// <paramref name="dloss"/> is null, else the gradient of the scores.</summary>
    private static void Ctc(CtcAttrs a, KernelContext c, TensorArg[] i, TensorArg? dloss, in TensorArg output)
    {
        string op = dloss is null ? "ctc_loss" : "_backward_ctc_loss";
        var data = c.Contiguous(i[0]);
        int time = data.Shape[0], batch = data.Shape[1], classes = data.Shape[2], width = i[1].Shape[1];
        var labels = HostIndices(c, i[1], op);
        int next = 2;
        var dataLengths = new int[batch];
        if (a.UseDataLengths) ToLengths(HostIndices(c, i[next++], op), dataLengths);
        else Array.Fill(dataLengths, time);
        var labelLengths = new int[batch];
        if (a.UseLabelLengths) ToLengths(HostIndices(c, i[next], op), labelLengths);
        else Array.Fill(labelLengths, -1);
        for (int n = 0; n < batch; n++)
        {
            if (labelLengths[n] >= 0) continue;
            int length = 0;
            while (length < width && labels[n * width + length] != a.Padding) length++;
            labelLengths[n] = length;
        }
        long doubles = Kernels.Cpu.CpuCtc.WorkspaceDoubles(time, batch, classes, width);
        var workspace = new TensorArg(c.Scratch(doubles * sizeof(double)),
            TensorLayout.Contiguous(new Shape(checked((int)doubles))), DType.Float64);
        long ints = GpuCtc.IndexInts(batch, width);
        var indices = new TensorArg(c.Scratch(ints * sizeof(int)),
            TensorLayout.Contiguous(new Shape(checked((int)ints))), DType.Int32);
        int blank = a.BlankIndex(classes);
        var rt = Runtime(c);
        if (dloss is not { } g)
            GpuCtc.Forward(rt, time, batch, classes, width, blank, data, labels, dataLengths, labelLengths, output,
                indices, workspace);
        else
            GpuCtc.Backward(rt, time, batch, classes, width, blank, data, labels, dataLengths, labelLengths,
                c.Contiguous(g), output, indices, workspace);
    }

    private static void ToLengths(long[] values, int[] lengths)
    {
        for (int n = 0; n < lengths.Length; n++)
            lengths[n] = (int)Math.Clamp(values[n], -1, int.MaxValue);
    }
}
