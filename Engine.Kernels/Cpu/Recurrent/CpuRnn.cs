using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// MXNet's fused RNN op on the CPU (see <see cref="RnnDescriptor"/> for the layouts). Per layer and direction the
/// forward pass runs one GEMM for the input projection of every step, then the recurrence: one GEMM per step for
/// the hidden projection and the cell's elementwise update. Nothing is allocated: the caller hands in scratch of
/// <see cref="RnnDescriptor.ForwardScratch"/> / <see cref="RnnDescriptor.BackwardScratch"/> elements.
/// </summary>
public static partial class CpuRnn
{
    /// <summary>
    /// Forward pass. x (T, N, I); w the flat parameters; hx, cx (L*D, N, H) initial states (cx read for LSTM only);
    /// y (T, N, D*H); hy, cy the final states; reserve of <see cref="RnnDescriptor.ReserveSize"/> elements. When
    /// <paramref name="dropout"/> is set, each layer's output but the last is dropped with the Philox counters from
    /// <paramref name="offset"/> of <paramref name="seed"/> (layer l from offset + l * counters per layer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(RnnDescriptor d, bool dropout, ulong seed, ulong offset, ReadOnlySpan<T> x,
        ReadOnlySpan<T> w, ReadOnlySpan<T> hx, ReadOnlySpan<T> cx, Span<T> y, Span<T> hy, Span<T> cy,
        Span<T> reserve, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(d, x.Length, w.Length, hx.Length, y.Length, reserve.Length, scratch.Length, d.ForwardScratch);
        int n = d.Batch, h = d.Hidden, gw = d.GateWidth, dh = d.Directions * h, seqLen = d.SeqLen;
        int rows = (int)d.Rows;
        if (rows == 0)
        {
            hx.CopyTo(hy);
            if (d.Mode == RnnMode.Lstm) cx.CopyTo(cy);
            return;
        }
        var gx = scratch[..(rows * gw)];
        var gh = scratch.Slice(rows * gw, n * gw);
        var bias = scratch.Slice(rows * gw + n * gw, gw);
        ulong countersPerLayer = CpuRandom.CountersUsed32((long)rows * dh);
        for (int l = 0; l < d.Layers; l++)
        {
            int inWidth = d.LayerInput(l);
            ReadOnlySpan<T> input = l == 0 ? x[..(rows * inWidth)] : LayerInput(d, reserve, l, rows);
            Span<T> output = l == d.Layers - 1 ? y[..(rows * dh)] : reserve.Slice((int)d.OutputOffset(l), rows * dh);
            for (int dir = 0; dir < d.Directions; dir++)
            {
                var wi = w.Slice((int)d.WeightOffset(l, dir, false), gw * inWidth);
                var wh = w.Slice((int)d.WeightOffset(l, dir, true), gw * h);
                var bi = w.Slice((int)d.BiasOffset(l, dir, false), gw);
                var bh = w.Slice((int)d.BiasOffset(l, dir, true), gw);
                // The h2h bias joins the input projection, except GRU's n part, which r multiplies.
                int folded = d.Mode == RnnMode.Gru ? 2 * h : gw;
                RnnCellMath.Add(bi[..folded], bh[..folded], bias[..folded]);
                bi[folded..].CopyTo(bias[folded..]);
                CpuGemm.Gemm(false, true, rows, gw, inWidth, T.One, input, inWidth, wi, inWidth, T.Zero, gx, gw);
                for (int r = 0; r < rows; r++) RnnCellMath.AddTo(bias, gx.Slice(r * gw, gw));

                int slot = l * d.Directions + dir;
                var gates = reserve.Slice((int)d.GateOffset(l, dir), rows * gw);
                var extra = reserve.Slice((int)d.ExtraOffset(l, dir),
                    d.Mode is RnnMode.Lstm or RnnMode.Gru ? rows * h : 0);
                ReadOnlySpan<T> hPrev = hx.Slice(slot * n * h, n * h);
                ReadOnlySpan<T> cPrev = d.Mode == RnnMode.Lstm ? cx.Slice(slot * n * h, n * h) : default;
                int ldPrev = h;
                for (int s = 0; s < seqLen; s++)
                {
                    int t = dir == 0 ? s : seqLen - 1 - s;
                    CpuGemm.Gemm(false, true, n, gw, h, T.One, hPrev[..Span(n, h, ldPrev)], ldPrev, wh, h, T.Zero,
                        gh, gw);
                    int stepRow = t * n;
                    for (int b = 0; b < n; b++)
                    {
                        int row = stepRow + b;
                        var hOut = output.Slice(row * dh + dir * h, h);
                        var gxRow = gx.Slice(row * gw, gw);
                        var ghRow = gh.Slice(b * gw, gw);
                        var gateRow = gates.Slice(row * gw, gw);
                        switch (d.Mode)
                        {
                            case RnnMode.Lstm:
                                RnnCellMath.LstmForward(h, gxRow, ghRow, cPrev.Slice(b * h, h), gateRow,
                                    extra.Slice(row * h, h), hOut);
                                break;
                            case RnnMode.Gru:
                                RnnCellMath.GruForward(h, gxRow, ghRow, bh[(2 * h)..], hPrev.Slice(b * ldPrev, h),
                                    gateRow, extra.Slice(row * h, h), hOut);
                                break;
                            default:
                                RnnCellMath.RnnForward(h, d.Mode == RnnMode.RnnRelu, gxRow, ghRow, gateRow, hOut);
                                break;
                        }
                    }
                    hPrev = output.Slice(stepRow * dh + dir * h);
                    ldPrev = dh;
                    if (d.Mode == RnnMode.Lstm) cPrev = extra.Slice(stepRow * h, n * h);
                }
                for (int b = 0; b < n; b++)
                {
                    hPrev.Slice(b * ldPrev, h).CopyTo(hy.Slice((slot * n + b) * h, h));
                    if (d.Mode == RnnMode.Lstm) cPrev.Slice(b * h, h).CopyTo(cy.Slice((slot * n + b) * h, h));
                }
            }
            if (l < d.Layers - 1 && d.Dropout > 0)
            {
                var mask = reserve.Slice((int)d.MaskOffset(l), rows * dh);
                var dropped = reserve.Slice((int)d.MaskOffset(l) + rows * dh, rows * dh);
                CpuDropout.Forward(dropout, seed, offset + (ulong)l * countersPerLayer, 1 - d.Dropout, output, mask,
                    dropped);
            }
        }
    }

    /// <summary>The input of layer l &gt; 0: the previous layer's output, after dropout when there is one.</summary>
    private static ReadOnlySpan<T> LayerInput<T>(RnnDescriptor d, ReadOnlySpan<T> reserve, int layer, int rows)
    {
        int width = d.Directions * d.Hidden;
        return d.Dropout > 0
            ? reserve.Slice((int)d.MaskOffset(layer - 1) + rows * width, rows * width)
            : reserve.Slice((int)d.OutputOffset(layer - 1), rows * width);
    }

    /// <summary>Elements a rows x cols matrix with leading dimension ld spans.</summary>
    private static int Span(int rows, int cols, int ld) => rows == 0 ? 0 : (rows - 1) * ld + cols;

    private static void Check(RnnDescriptor d, int x, int w, int hx, int y, int reserve, int scratch, long need)
    {
        if (x < d.Rows * d.Input || w < d.ParameterCount || hx < (long)d.Layers * d.Directions * d.Batch * d.Hidden ||
            y < d.Rows * d.Directions * d.Hidden || reserve < d.ReserveSize || scratch < need)
            throw new ArgumentException(
                $"{d}: buffers too small: x {x}, parameters {w} (need {d.ParameterCount}), state {hx}, y {y}, " +
                $"reserve {reserve} (need {d.ReserveSize}), scratch {scratch} (need {need}).");
    }
}
