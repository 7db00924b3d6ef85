using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

public static partial class CpuRnn
{
    /// <summary>
    /// Backward pass from the forward's inputs, y and reserve, and the gradients dy, dhy, dcy (dcy read for LSTM
    /// only). Writes dx, dw (every element), dhx and dcx. Per layer (last first) and direction: the recurrence in
    /// reverse with one GEMM per step for the gradient of the previous hidden state, then one GEMM each for the
    /// i2h weight, the h2h weight and the layer input's gradient over all steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(RnnDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> hx,
        ReadOnlySpan<T> cx, ReadOnlySpan<T> y, ReadOnlySpan<T> reserve, ReadOnlySpan<T> dy, ReadOnlySpan<T> dhy,
        ReadOnlySpan<T> dcy, Span<T> dx, Span<T> dw, Span<T> dhx, Span<T> dcx, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(d, x.Length, w.Length, hx.Length, y.Length, reserve.Length, scratch.Length, d.BackwardScratch);
        int n = d.Batch, h = d.Hidden, gw = d.GateWidth, dh = d.Directions * h, seqLen = d.SeqLen;
        int rows = (int)d.Rows;
        bool lstm = d.Mode == RnnMode.Lstm, gru = d.Mode == RnnMode.Gru;
        if (rows == 0)
        {
            dw.Clear();
            dhy.CopyTo(dhx);
            if (lstm) dcy.CopyTo(dcx);
            return;
        }
        int at = 0, gateCount = rows * gw, layer = rows * dh, state = n * h;
        var dgx = scratch.Slice(at, gateCount);
        at += gateCount;
        var dgh = dgx;
        if (gru)
        {
            dgh = scratch.Slice(at, gateCount);
            at += gateCount;
        }
        var bufferA = scratch.Slice(at, layer);
        var bufferB = scratch.Slice(at + layer, layer);
        at += 2 * layer;
        var dhRun = scratch.Slice(at, state);
        var dcRun = scratch.Slice(at + state, state);
        var dhTotal = scratch.Slice(at + 2 * state, state);

        ReadOnlySpan<T> dOut = dy[..(rows * dh)];
        for (int l = d.Layers - 1; l >= 0; l--)
        {
            int inWidth = d.LayerInput(l);
            ReadOnlySpan<T> input = l == 0 ? x[..(rows * inWidth)] : LayerInput(d, reserve, l, rows);
            ReadOnlySpan<T> output = l == d.Layers - 1 ? y[..(rows * dh)]
                : reserve.Slice((int)d.OutputOffset(l), rows * dh);
            Span<T> dInput = l == 0 ? dx[..(rows * inWidth)] : bufferB[..(rows * inWidth)];
            for (int dir = 0; dir < d.Directions; dir++)
            {
                int slot = l * d.Directions + dir;
                var wi = w.Slice((int)d.WeightOffset(l, dir, false), gw * inWidth);
                var wh = w.Slice((int)d.WeightOffset(l, dir, true), gw * h);
                var gates = reserve.Slice((int)d.GateOffset(l, dir), rows * gw);
                var extra = reserve.Slice((int)d.ExtraOffset(l, dir), lstm || gru ? rows * h : 0);
                var h0 = hx.Slice(slot * n * h, n * h);
                var c0 = lstm ? cx.Slice(slot * n * h, n * h) : default;
                dhy.Slice(slot * n * h, n * h).CopyTo(dhRun);
                if (lstm) dcy.Slice(slot * n * h, n * h).CopyTo(dcRun);
                for (int s = seqLen - 1; s >= 0; s--)
                {
                    int t = dir == 0 ? s : seqLen - 1 - s;
                    bool first = s == 0;
                    int tp = dir == 0 ? t - 1 : t + 1;
                    int stepRow = t * n;
                    for (int b = 0; b < n; b++)
                    {
                        int row = stepRow + b;
                        var dhb = dhTotal.Slice(b * h, h);
                        RnnCellMath.Add(dhRun.Slice(b * h, h), dOut.Slice(row * dh + dir * h, h), dhb);
                        var hPrev = first ? h0.Slice(b * h, h) : output.Slice((tp * n + b) * dh + dir * h, h);
                        switch (d.Mode)
                        {
                            case RnnMode.Lstm:
                                var cPrev = first ? c0.Slice(b * h, h) : extra.Slice((tp * n + b) * h, h);
                                RnnCellMath.LstmBackward(h, gates.Slice(row * gw, gw), extra.Slice(row * h, h),
                                    cPrev, dhb, dcRun.Slice(b * h, h), dgx.Slice(row * gw, gw));
                                break;
                            case RnnMode.Gru:
                                RnnCellMath.GruBackward(h, gates.Slice(row * gw, gw), extra.Slice(row * h, h),
                                    hPrev, dhb, dgx.Slice(row * gw, gw), dgh.Slice(row * gw, gw),
                                    dhRun.Slice(b * h, h));
                                break;
                            default:
                                RnnCellMath.RnnBackward(h, d.Mode == RnnMode.RnnRelu, gates.Slice(row * gw, gw), dhb,
                                    dgx.Slice(row * gw, gw));
                                break;
                        }
                    }
                    // dh' = dpre_h . W_h (+ GRU's direct z dh, already in dhRun).
                    CpuGemm.Gemm(false, false, n, h, gw, T.One, dgh.Slice(stepRow * gw, n * gw), gw, wh, h,
                        gru ? T.One : T.Zero, dhRun, h);
                }
                dhRun.CopyTo(dhx.Slice(slot * n * h, n * h));
                if (lstm) dcRun.CopyTo(dcx.Slice(slot * n * h, n * h));

                var dwi = dw.Slice((int)d.WeightOffset(l, dir, false), gw * inWidth);
                var dwh = dw.Slice((int)d.WeightOffset(l, dir, true), gw * h);
                CpuGemm.Gemm(true, false, gw, inWidth, rows, T.One, dgx, gw, input, inWidth, T.Zero, dwi, inWidth);
                // dW_h = sum over steps of dpre_h(t)^T h(t'), h(t') the previous step's output (h0 for the first
                // step): one GEMM over the steps whose h(t') lies in the output, one for the first step.
                int later = rows - n;
                var dghLater = dir == 0 ? dgh.Slice(n * gw, later * gw) : dgh[..(later * gw)];
                // One step has no later steps (and the reverse direction's slice would start past the output).
                var hLater = later == 0 ? ReadOnlySpan<T>.Empty : dir == 0 ? output : output[(n * dh + dir * h)..];
                CpuGemm.Gemm(true, false, gw, h, later, T.One, dghLater, gw, hLater[..Span(later, h, dh)], dh,
                    T.Zero, dwh, h);
                var dghFirst = dir == 0 ? dgh[..(n * gw)] : dgh.Slice(later * gw, n * gw);
                CpuGemm.Gemm(true, false, gw, h, n, T.One, dghFirst, gw, h0, h, T.One, dwh, h);
                RnnCellMath.ColumnSums<T>(dgx, rows, dw.Slice((int)d.BiasOffset(l, dir, false), gw));
                RnnCellMath.ColumnSums<T>(dgh, rows, dw.Slice((int)d.BiasOffset(l, dir, true), gw));
                CpuGemm.Gemm(false, false, rows, inWidth, gw, T.One, dgx, gw, wi, inWidth, dir == 0 ? T.Zero : T.One,
                    dInput, inWidth);
            }
            if (l == 0) break;
            // The gradient of the previous layer's output: through the dropout mask when there is one.
            if (d.Dropout > 0)
            {
                var mask = reserve.Slice((int)d.MaskOffset(l - 1), rows * dh);
                var next = bufferA[..(rows * dh)];
                for (int e = 0; e < rows * dh; e += dh)
                    Multiply(bufferB.Slice(e, dh), mask.Slice(e, dh), next.Slice(e, dh));
                dOut = next;
            }
            else
            {
                dOut = bufferB[..(rows * dh)];
                var swap = bufferA;
                bufferA = bufferB;
                bufferB = swap;
            }
        }
    }

    private static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dst) where T : INumber<T>
    {
        for (int j = 0; j < dst.Length; j++) dst[j] = a[j] * b[j];
    }
}
