using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// MXNet's fused RNN op on the GPU, float32 and float64, with the CPU kernel's layouts and order of work
/// (<see cref="Cpu.CpuRnn"/>, <see cref="RnnDescriptor"/>): per layer and direction one GEMM for the input
/// projection of every step, then per step one GEMM for the hidden projection and one fused cell kernel (gate
/// activations and state update). The backward pass runs a cell-gradient kernel and a GEMM per step, then GEMMs
/// over all steps for the weight and input gradients and a column-sum kernel for the biases. The reserve holds
/// exactly what the CPU's holds, so either backend's backward reads the other's forward. Arguments are contiguous;
/// scratch is <see cref="RnnDescriptor.ForwardScratch"/> / <see cref="RnnDescriptor.BackwardScratch"/> elements.
/// </summary>
public static partial class GpuRnn
{
    private const string Op = "rnn";

    /// <summary>
    /// Forward pass: x (T, N, I), w the flat parameters, hx and cx (L*D, N, H) (cx for LSTM only, else ignored),
    /// into y, hy, cy (LSTM), the reserve and scratch. Dropout between layers draws the CPU's Philox masks (layer
    /// l from offset + l * the counters of one layer's output) when <paramref name="training"/>.
    /// </summary>
    public static void Forward<T>(GpuRuntime runtime, RnnDescriptor d, bool training, ulong seed, ulong offset,
        in TensorArg x, in TensorArg w, in TensorArg hx, in TensorArg cx, in TensorArg y, in TensorArg hy,
        in TensorArg cy, in TensorArg reserve, in TensorArg scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool lstm = d.Mode == RnnMode.Lstm;
        Check(d, x, w, hx, y, reserve, scratch, d.ForwardScratch);
        int n = d.Batch, h = d.Hidden, gw = d.GateWidth, dh = d.Directions * h, seqLen = d.SeqLen;
        int rows = (int)d.Rows;
        if (rows == 0)
        {
            runtime.Copy(hx, hy);
            if (lstm) runtime.Copy(cx, cy);
            return;
        }
        var views = new CellViews<T>
        {
            Scratch = scratch.Elements<T>(runtime, Op), Reserve = reserve.Elements<T>(runtime, Op),
            Parameters = w.Elements<T>(runtime, Op),
        };
        var hxView = hx.Elements<T>(runtime, Op);
        var cxView = lstm ? cx.Elements<T>(runtime, Op) : hxView;
        var yView = y.Elements<T>(runtime, Op);
        var cell = runtime.Kernels.Load<CellViews<T>, RnnStep, int>(ForwardCellKernel<T>);
        var stepConfig = runtime.GridStride((long)n * h);
        ulong countersPerLayer = Cpu.CpuRandom.CountersUsed32((long)rows * dh);
        // gx (rows, G*H), then gh (N, G*H): the CPU's scratch layout.
        int gh = rows * gw;
        for (int l = 0; l < d.Layers; l++)
        {
            int inWidth = d.LayerInput(l);
            var input = l == 0 ? x : Slice(reserve, LayerInputOffset(d, l), (long)rows * inWidth);
            bool last = l == d.Layers - 1;
            var output = last ? y : Slice(reserve, d.OutputOffset(l), (long)rows * dh);
            views.Output = last ? yView : views.Reserve;
            int outBase = last ? 0 : (int)d.OutputOffset(l);
            for (int dir = 0; dir < d.Directions; dir++)
            {
                int slot = l * d.Directions + dir;
                var gx = Slice(scratch, 0, (long)rows * gw);
                GpuGemm.Gemm(runtime, false, true, rows, gw, inWidth, T.One, input, inWidth,
                    Slice(w, d.WeightOffset(l, dir, false), (long)gw * inWidth), inWidth, T.Zero, gx, gw);
                // The h2h bias joins the input projection, except GRU's n part, which r multiplies.
                int folded = d.Mode == RnnMode.Gru ? 2 * h : gw;
                runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, int, int, int, int, int>(AddBiasKernel<T>)(
                    runtime.Stream, runtime.GridStride((long)rows * gw), views.Scratch, views.Parameters,
                    (int)d.BiasOffset(l, dir, false), (int)d.BiasOffset(l, dir, true), folded, gw, rows * gw);

                var s = new RnnStep
                {
                    Mode = (int)d.Mode, Batch = n, Hidden = h, Gh = gh, HPrev = slot * n * h, HPrevLd = h,
                    CPrev = slot * n * h, Bhn = (int)d.BiasOffset(l, dir, true) + 2 * h,
                };
                views.HPrev = hxView;
                views.CPrev = cxView;
                var hPrev = Slice(hx, slot * n * h, (long)n * h);
                for (int k = 0; k < seqLen; k++)
                {
                    int t = dir == 0 ? k : seqLen - 1 - k;
                    int stepRow = t * n;
                    GpuGemm.Gemm(runtime, false, true, n, gw, h, T.One, hPrev, s.HPrevLd,
                        Slice(w, d.WeightOffset(l, dir, true), (long)gw * h), h, T.Zero,
                        Slice(scratch, gh, (long)n * gw), gw);
                    s.Gx = stepRow * gw;
                    s.Gates = (int)d.GateOffset(l, dir) + stepRow * gw;
                    s.Extra = (int)d.ExtraOffset(l, dir) + stepRow * h;
                    s.Out = outBase + stepRow * dh + dir * h;
                    s.OutLd = dh;
                    cell(runtime.Stream, stepConfig, views, s, n * h);
                    // The next step reads this step's output (and cell) in place.
                    hPrev = Slice(output, (long)stepRow * dh + dir * h, (long)(n - 1) * dh + h);
                    views.HPrev = views.Output;
                    s.HPrev = s.Out;
                    s.HPrevLd = dh;
                    views.CPrev = views.Reserve;
                    s.CPrev = s.Extra;
                }
                // The final states: the last step's rows of the output (and cell).
                runtime.Copy(Strided(output, s.HPrev - outBase, n, h, dh), Strided(hy, slot * n * h, n, h, h));
                if (lstm) runtime.Copy(Strided(reserve, s.CPrev, n, h, h), Strided(cy, slot * n * h, n, h, h));
            }
            if (!last && d.Dropout > 0)
            {
                var mask = Slice(reserve, d.MaskOffset(l), (long)rows * dh);
                if (training)
                    GpuRandom.DropoutMask(runtime, seed, offset + (ulong)l * countersPerLayer, 1 - d.Dropout, mask);
                runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int>(DropKernel<T>)(
                    runtime.Stream, runtime.GridStride((long)rows * dh), output.Elements<T>(runtime, Op),
                    mask.Elements<T>(runtime, Op),
                    Slice(reserve, d.MaskOffset(l) + (long)rows * dh, (long)rows * dh).Elements<T>(runtime, Op),
                    training ? 1 : 0, rows * dh);
            }
        }
    }

    /// <summary>Offset in the reserve of layer l's input (l &gt; 0): the previous layer's output, after dropout
    /// when there is one.</summary>
    private static long LayerInputOffset(RnnDescriptor d, int layer) =>
        d.Dropout > 0 ? d.MaskOffset(layer - 1) + d.Rows * d.Directions * d.Hidden : d.OutputOffset(layer - 1);

    /// <summary><paramref name="length"/> elements of a contiguous argument from <paramref name="offset"/>.</summary>
    private static TensorArg Slice(in TensorArg x, long offset, long length) =>
        x.WithLayout(new TensorLayout(new Shape(checked((int)length)), [1], x.Offset + offset));

    /// <summary>A rows x cols matrix of a contiguous argument from <paramref name="offset"/>, rows ld apart (a
    /// copy's source or target).</summary>
    private static TensorArg Strided(in TensorArg x, long offset, int rows, int cols, int ld) =>
        x.WithLayout(new TensorLayout(new Shape(rows, cols), [ld, 1], x.Offset + offset));

    private static void Check(RnnDescriptor d, in TensorArg x, in TensorArg w, in TensorArg hx, in TensorArg y,
        in TensorArg reserve, in TensorArg scratch, long need)
    {
        foreach (var a in new[] { x, w, hx, y, reserve, scratch })
        {
            if (!a.IsContiguous)
                throw new ArgumentException($"{Op}: GPU kernel argument {a} must be contiguous.");
        }
        if (x.Size < d.Rows * d.Input || w.Size < d.ParameterCount ||
            hx.Size < (long)d.Layers * d.Directions * d.Batch * d.Hidden ||
            y.Size < d.Rows * d.Directions * d.Hidden || reserve.Size < d.ReserveSize || scratch.Size < need)
            throw new ArgumentException(
                $"{d}: buffers too small: x {x.Size}, parameters {w.Size} (need {d.ParameterCount}), state " +
                $"{hx.Size}, y {y.Size}, reserve {reserve.Size} (need {d.ReserveSize}), scratch {scratch.Size} " +
                $"(need {need}).");
        if (d.ReserveSize + need > GpuTensor.MaxElements || d.ParameterCount > GpuTensor.MaxElements)
            throw new NotSupportedException($"{d}: the reserve or parameters exceed 2^31 - 1 elements.");
    }
}
