using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>Which class index of the scores is CTC's blank (MXNet's blank_label).</summary>
public enum CtcBlank
{
    /// <summary>Class 0 is the blank; symbols are 1 to C-1 and labels are padded with 0.</summary>
    First,

    /// <summary>Class C-1 is the blank; symbols are 0 to C-2 and labels are padded with -1 (Gluon's CTCLoss).</summary>
    Last,
}

/// <summary>
/// MXNet's CTCLoss attributes: whether per-sample sequence lengths and label lengths are given as inputs (else
/// every sample has all T frames and a label ends at its first padding value, as a negative label length also
/// says), and which class is the blank.
/// </summary>
public sealed record CtcAttrs(bool UseDataLengths = false, bool UseLabelLengths = false,
    CtcBlank Blank = CtcBlank.First) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["use_data_lengths"] = Format.Bool(UseDataLengths), ["use_label_lengths"] = Format.Bool(UseLabelLengths),
        ["blank_label"] = Blank == CtcBlank.First ? "first" : "last",
    };

    /// <summary>The number of inputs: data, label, then the lengths that are used.</summary>
    public int Inputs => 2 + (UseDataLengths ? 1 : 0) + (UseLabelLengths ? 1 : 0);

    /// <summary>The blank's class index for an alphabet of <paramref name="classes"/>.</summary>
    public int BlankIndex(int classes) => Blank == CtcBlank.First ? 0 : classes - 1;

    /// <summary>The label value that pads a shorter label.</summary>
    public long Padding => Blank == CtcBlank.First ? 0 : -1;
}

/// <summary>
/// Losses that cannot be built efficiently from elementwise operators. CTC runs the forward-backward recursion of
/// <see cref="CpuCtc"/>: <c>ctc_loss</c> gives the per-sample loss, and its gradient recomputes alpha and beta in
/// <c>_backward_ctc_loss</c> rather than storing a (T, N, C) gradient during every forward pass.
/// </summary>
[OpTable]
public static class LossOps
{
    /// <summary>Inputs data (T, N, C) scores before softmax, label (N, L), [data lengths (N,)], [label lengths
    /// (N,)]; output the loss (N,).</summary>
    public static readonly OpDef<CtcAttrs> CtcLoss = new("ctc_loss", -1, 1,
        (a, t) =>
        {
            CheckCtc("ctc_loss", a, t, a.Inputs);
            return [new TensorType(new Shape(t[0].Shape[1]), t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        {
            var grads = new NDArray?[i.Length];
            if (r[0]) grads[0] = CtcLossBackward!.Call(a, [.. i, g[0]]);
            return grads;
        })
    {
        Saves = SavedValues.Inputs(0, 1, 2, 3),
        Scratch = static (a, t) => ScratchBytes(a, t, a.Inputs),
    };

    /// <summary>The inputs of <see cref="CtcLoss"/> then dloss (N,); output dscores (T, N, C).</summary>
    public static readonly OpDef<CtcAttrs> CtcLossBackward = new("_backward_ctc_loss", -1, 1,
        (a, t) =>
        {
            CheckCtc("_backward_ctc_loss", a, t, a.Inputs + 1);
            var dloss = t[^1];
            if (dloss.Shape != new Shape(t[0].Shape[1]) || dloss.DType != t[0].DType)
                throw new ArgumentException(
                    $"_backward_ctc_loss: dloss is {dloss}, expected {t[0].DType.Name()}({t[0].Shape[1]},).");
            return [t[0]];
        })
    {
        Scratch = static (a, t) => ScratchBytes(a, t, a.Inputs + 1),
    };

    private static long ScratchBytes(CtcAttrs a, TensorType[] t, int inputs)
    {
        // Dense copies of the inputs, the labels and lengths widened to integers, and the alpha-beta workspace.
        long copies = t.Take(inputs).Sum(x => x.Shape.Size * x.DType.SizeInBytes());
        var (time, batch, classes) = (t[0].Shape[0], t[0].Shape[1], t[0].Shape[2]);
        int width = t[1].Shape[1];
        long indices = (long)batch * width * sizeof(long) + 2L * batch * sizeof(int);
        return copies + indices + CpuCtc.WorkspaceDoubles(time, batch, classes, width) * sizeof(double);
    }

    private static void CheckCtc(string op, CtcAttrs a, TensorType[] t, int inputs)
    {
        if (t.Length != inputs)
            throw new ArgumentException(
                $"{op}: expected {inputs} inputs (data, label{(a.UseDataLengths ? ", data lengths" : "")}" +
                $"{(a.UseLabelLengths ? ", label lengths" : "")}{(inputs > a.Inputs ? ", dloss" : "")}), got " +
                $"{t.Length}; the lengths are inputs only when UseDataLengths / UseLabelLengths say so.");
        ShapeRules.RequireFloat(op, t[0]);
        if (t[0].Shape.Rank != 3 || t[0].Shape[2] < 1)
            throw new ArgumentException(
                $"{op}: data must be (time, batch, alphabet) scores with the blank among the classes, got " +
                $"{t[0].Shape}; swap NTC data to TNC first.");
        int batch = t[0].Shape[1];
        if (t[1].Shape.Rank != 2 || t[1].Shape[0] != batch)
            throw new ArgumentException(
                $"{op}: label must be (batch, label length) = ({batch}, L) for data {t[0].Shape}, got " +
                $"{t[1].Shape}; pad shorter labels with {(a.Blank == CtcBlank.First ? 0 : -1)}.");
        for (int k = 2; k < a.Inputs; k++)
        {
            if (t[k].Shape != new Shape(batch))
                throw new ArgumentException(
                    $"{op}: {LengthName(a, k)} must have shape ({batch},), one per sample, got {t[k].Shape}.");
        }
    }

    private static string LengthName(CtcAttrs a, int input) =>
        input == 2 && a.UseDataLengths ? "data lengths" : "label lengths";
}
