using System.Numerics;
using ILGPU;

namespace Engine.Kernels.Gpu;

public static partial class GpuRnn
{
    /// <summary>
    /// Backward pass from the forward's inputs, y and reserve and the gradients dy, dhy, dcy (cx and dcy read for
    /// LSTM only): writes dx, dw (every element), dhx and dcx (LSTM). Per layer (last first) and direction: the
    /// recurrence in reverse, a cell-gradient kernel and a GEMM with W_h per step; then GEMMs over all steps for
    /// dW_i, dW_h and the layer input's gradient, and column sums of the gate gradients for the biases.
    /// </summary>
    public static void Backward<T>(GpuRuntime runtime, RnnDescriptor d, in TensorArg x, in TensorArg w,
        in TensorArg hx, in TensorArg cx, in TensorArg y, in TensorArg reserve, in TensorArg dy, in TensorArg dhy,
        in TensorArg dcy, in TensorArg dx, in TensorArg dw, in TensorArg dhx, in TensorArg dcx,
        in TensorArg scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(d, x, w, hx, y, reserve, scratch, d.BackwardScratch);
        int n = d.Batch, h = d.Hidden, gw = d.GateWidth, dh = d.Directions * h, seqLen = d.SeqLen;
        int rows = (int)d.Rows;
        bool lstm = d.Mode == RnnMode.Lstm, gru = d.Mode == RnnMode.Gru;
        if (rows == 0)
        {
            GpuLayout.Fill(runtime, dw, T.Zero);
            runtime.Copy(dhy, dhx);
            if (lstm) runtime.Copy(dcy, dcx);
            return;
        }
        // Scratch as on the CPU: dgx, dgh (GRU only; else dgx serves both), two layer-gradient buffers, the
        // running dh and dc (the CPU's third state buffer is not needed: the cell kernel adds dy itself).
        int gateCount = rows * gw, layer = rows * dh, state = n * h;
        int dgx = 0, dgh = gru ? gateCount : 0, at = gru ? 2 * gateCount : gateCount;
        int bufferA = at, bufferB = at + layer, dhRun = at + 2 * layer, dcRun = dhRun + state;
        var scratchView = scratch.Elements<T>(runtime, Op);
        var views = new CellViews<T> { Scratch = scratchView, Reserve = reserve.Elements<T>(runtime, Op) };
        var hxView = hx.Elements<T>(runtime, Op);
        var cxView = lstm ? cx.Elements<T>(runtime, Op) : hxView;
        var yView = y.Elements<T>(runtime, Op);
        var dyView = dy.Elements<T>(runtime, Op);
        var cell = runtime.Kernels.Load<CellViews<T>, RnnStep, int>(BackwardCellKernel<T>);
        var sums = runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, int, int>(ColumnSumsKernel<T>);
        var dwView = dw.Elements<T>(runtime, Op);
        var stepConfig = runtime.GridStride((long)n * h);

        // The gradient of the current layer's output: dy, then a scratch buffer.
        var dOutView = dyView;
        int dOutBase = 0;
        for (int l = d.Layers - 1; l >= 0; l--)
        {
            int inWidth = d.LayerInput(l);
            var input = l == 0 ? x : Slice(reserve, LayerInputOffset(d, l), (long)rows * inWidth);
            bool last = l == d.Layers - 1;
            var output = last ? y : Slice(reserve, d.OutputOffset(l), (long)rows * dh);
            var outputView = last ? yView : views.Reserve;
            int outBase = last ? 0 : (int)d.OutputOffset(l);
            var dInput = l == 0 ? dx : Slice(scratch, bufferB, (long)rows * inWidth);
            for (int dir = 0; dir < d.Directions; dir++)
            {
                int slot = l * d.Directions + dir;
                var wh = Slice(w, d.WeightOffset(l, dir, true), (long)gw * h);
                runtime.Copy(Slice(dhy, slot * state, state), Slice(scratch, dhRun, state));
                if (lstm) runtime.Copy(Slice(dcy, slot * state, state), Slice(scratch, dcRun, state));
                views.Output = dOutView;
                var s = new RnnStep
                {
                    Mode = (int)d.Mode, Batch = n, Hidden = h, Bhn = dhRun, DcRun = dcRun, OutLd = dh,
                };
                for (int k = seqLen - 1; k >= 0; k--)
                {
                    int t = dir == 0 ? k : seqLen - 1 - k;
                    int tp = dir == 0 ? t - 1 : t + 1, stepRow = t * n;
                    bool first = k == 0;
                    views.HPrev = first ? hxView : outputView;
                    s.HPrev = first ? slot * state : outBase + tp * n * dh + dir * h;
                    s.HPrevLd = first ? h : dh;
                    views.CPrev = first ? cxView : views.Reserve;
                    s.CPrev = first ? slot * state : (int)d.ExtraOffset(l, dir) + tp * n * h;
                    s.Gates = (int)d.GateOffset(l, dir) + stepRow * gw;
                    s.Extra = (int)d.ExtraOffset(l, dir) + stepRow * h;
                    s.Gx = dgx + stepRow * gw;
                    s.Gh = dgh + stepRow * gw;
                    s.Out = dOutBase + stepRow * dh + dir * h;
                    cell(runtime.Stream, stepConfig, views, s, state);
                    // dh' = dpre_h . W_h (+ GRU's direct z dh, which the cell kernel left in the running dh).
                    GpuGemm.Gemm(runtime, false, false, n, h, gw, T.One, Slice(scratch, s.Gh, (long)n * gw), gw, wh, h,
                        gru ? T.One : T.Zero, Slice(scratch, dhRun, state), h);
                }
                runtime.Copy(Slice(scratch, dhRun, state), Slice(dhx, slot * state, state));
                if (lstm) runtime.Copy(Slice(scratch, dcRun, state), Slice(dcx, slot * state, state));

                var gates = Slice(scratch, dgx, gateCount);
                var hidden = Slice(scratch, dgh, gateCount);
                GpuGemm.Gemm(runtime, true, false, gw, inWidth, rows, T.One, gates, gw, input, inWidth, T.Zero,
                    Slice(dw, d.WeightOffset(l, dir, false), (long)gw * inWidth), inWidth);
                // dW_h = the sum over steps of dpre_h(t)^T h(t'), h(t') the previous step's output (h0 for the
                // first step): one GEMM over the steps whose h(t') lies in the output, one for the first step.
                int later = rows - n;
                var dwh = Slice(dw, d.WeightOffset(l, dir, true), (long)gw * h);
                var dghLater = Slice(scratch, dgh + (dir == 0 ? n * gw : 0), (long)later * gw);
                var hLater = Slice(output, dir == 0 ? 0 : n * dh + h, later == 0 ? 0 : (long)(later - 1) * dh + h);
                GpuGemm.Gemm(runtime, true, false, gw, h, later, T.One, dghLater, gw, hLater, dh, T.Zero, dwh, h);
                var dghFirst = Slice(scratch, dgh + (dir == 0 ? 0 : later * gw), (long)n * gw);
                GpuGemm.Gemm(runtime, true, false, gw, h, n, T.One, dghFirst, gw, Slice(hx, slot * state, state), h,
                    T.One, dwh, h);
                var groups = runtime.GridStride(gw);
                sums(runtime.Stream, groups, scratchView.SubView(dgx, gateCount),
                    dwView.SubView(d.BiasOffset(l, dir, false), gw), rows, gw);
                sums(runtime.Stream, groups, scratchView.SubView(dgh, gateCount),
                    dwView.SubView(d.BiasOffset(l, dir, true), gw), rows, gw);
                GpuGemm.Gemm(runtime, false, false, rows, inWidth, gw, T.One, gates, gw,
                    Slice(w, d.WeightOffset(l, dir, false), (long)gw * inWidth), inWidth,
                    dir == 0 ? T.Zero : T.One, dInput, inWidth);
            }
            if (l == 0) break;
            // The gradient of the previous layer's output: through the dropout mask when there is one.
            if (d.Dropout > 0)
            {
                runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int>(DropKernel<T>)(
                    runtime.Stream, runtime.GridStride(layer), scratchView.SubView(bufferB, layer),
                    views.Reserve.SubView(d.MaskOffset(l - 1), layer), scratchView.SubView(bufferA, layer), 1,
                    layer);
                dOutBase = bufferA;
            }
            else
            {
                dOutBase = bufferB;
                (bufferA, bufferB) = (bufferB, bufferA);
            }
            dOutView = scratchView;
        }
    }
}
