using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// 2-D (and 1-D) convolution on the GPU, float32 and float64, NCHW, groups and dilation. Float32 forward and weight
/// gradient are implicit GEMMs through the tiled SGEMM kernel (the im2col matrix is never stored: its elements are
/// computed as the tiles are staged); layers with few input channels per group run a direct kernel instead. Float64
/// runs the direct kernels, generic over the element type: forward one thread per output element, weight gradient
/// one thread per weight element. The data gradient is a gather, one thread per input element, so it needs no
/// atomics and sums in a fixed order; with a bias it is also the forward pass of the transposed convolution.
/// </summary>
public static class GpuConvolution
{
    /// <summary>Input channels per group up to which the forward pass runs the direct kernel.</summary>
    public const int DirectMaxChannels = 4;

    /// <summary>y = conv(x, w) + bias; bias (K,) or null for none; y overwritten.</summary>
    public static void Forward(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg x, in TensorArg w,
        TensorArg? bias, in TensorArg y)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
        {
            DirectForward<double>(runtime, desc, x, w, bias, y);
            return;
        }
        if (desc.InChannelsPerGroup <= DirectMaxChannels)
        {
            DirectForward<float>(runtime, desc, x, w, bias, y);
            return;
        }
        string op = desc.Op;
        var xv = Dense<float>(runtime, x, desc.InputSize, "input x", desc, op);
        var wv = Dense<float>(runtime, w, desc.WeightSize, "weight w", desc, op);
        var yv = Dense<float>(runtime, y, desc.OutputSize, "output y", desc, op);
        var bv = bias is { } b ? Dense<float>(runtime, b, desc.OutChannels, "bias", desc, op) : wv;
        if (desc.OutputSize == 0) return;
        var g = ConvGeometry.Of(desc);
        int hasBias = bias is null ? 0 : 1;
        int crs = g.Cg * g.R * g.S;
        var a = new DenseSource { Data = wv, Offset = 0, BatchStride = g.Kg * crs, Ld = crs };
        var cols = new ConvViews.Columns { X = new ConvViews.Input { Data = xv }, Geometry = g };
        var target = new ConvViews.Output { Data = yv, Bias = bv, HasBias = hasBias, Geometry = g };
        GpuGemm.Tiled(runtime, a, cols, target, desc.Groups, g.Kg, g.N * g.OH * g.OW, crs);
    }

    private static void DirectForward<T>(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg x,
        in TensorArg w, TensorArg? bias, in TensorArg y) where T : unmanaged, INumber<T>
    {
        string op = desc.Op;
        var xv = Dense<T>(runtime, x, desc.InputSize, "input x", desc, op);
        var wv = Dense<T>(runtime, w, desc.WeightSize, "weight w", desc, op);
        var yv = Dense<T>(runtime, y, desc.OutputSize, "output y", desc, op);
        var bv = bias is { } b ? Dense<T>(runtime, b, desc.OutChannels, "bias", desc, op) : wv;
        if (desc.OutputSize == 0) return;
        int n = (int)desc.OutputSize;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, ArrayView<T>, ConvGeometry, int>(
            DirectForwardKernel<T>)(runtime.Stream, runtime.GridStride(n), xv, wv, bv, bias is null ? 0 : 1, yv,
            ConvGeometry.Of(desc), n);
    }

    /// <summary>
    /// dx from dy and w, plus a per-channel bias of dx when given (the transposed convolution's bias); dx
    /// overwritten.
    /// </summary>
    public static void BackwardData(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg dy, in TensorArg w,
        in TensorArg dx, TensorArg? bias = null)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (dy.DType == DType.Float64) BackwardData<double>(runtime, desc, dy, w, dx, bias);
        else BackwardData<float>(runtime, desc, dy, w, dx, bias);
    }

    private static void BackwardData<T>(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg dy,
        in TensorArg w, in TensorArg dx, TensorArg? bias) where T : unmanaged, INumber<T>
    {
        string op = desc.Op + "_backward_data";
        var gv = Dense<T>(runtime, dy, desc.OutputSize, "output gradient dy", desc, op);
        var wv = Dense<T>(runtime, w, desc.WeightSize, "weight w", desc, op);
        var dv = Dense<T>(runtime, dx, desc.InputSize, "input gradient dx", desc, op);
        var bv = bias is { } b ? Dense<T>(runtime, b, desc.InChannels, "bias", desc, op) : wv;
        int n = (int)desc.InputSize;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, ArrayView<T>, ConvGeometry, int>(
            BackwardDataKernel<T>)(runtime.Stream, runtime.GridStride(n), gv, wv, bv, bias is null ? 0 : 1, dv,
            ConvGeometry.Of(desc), n);
    }

    /// <summary>dw from x and dy: per group, dy (Kg x N OH OW) times the transposed im2col matrix; dw overwritten.
    /// </summary>
    public static void BackwardWeight(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg dw)
    {
        ArgumentNullException.ThrowIfNull(desc);
        string op = desc.Op + "_backward_weight";
        if (x.DType == DType.Float64)
        {
            DirectBackwardWeight<double>(runtime, desc, x, dy, dw);
            return;
        }
        var xv = Dense<float>(runtime, x, desc.InputSize, "input x", desc, op);
        var gv = Dense<float>(runtime, dy, desc.OutputSize, "output gradient dy", desc, op);
        var wv = Dense<float>(runtime, dw, desc.WeightSize, "weight gradient dw", desc, op);
        if (desc.WeightSize == 0) return;
        var g = ConvGeometry.Of(desc);
        int crs = g.Cg * g.R * g.S;
        var a = new ConvViews.OutputGradient { Data = gv, Geometry = g };
        var b = new ConvViews.ColumnsTransposed { X = new ConvViews.Input { Data = xv }, Geometry = g };
        var target = new DenseTarget { Data = wv, Offset = 0, BatchStride = g.Kg * crs, Ld = crs, Alpha = 1f };
        if (g.N * g.OH * g.OW == 0)
        {
            GpuLayout.Zero(runtime, wv);
            return;
        }
        GpuGemm.Tiled(runtime, a, b, target, desc.Groups, g.Kg, crs, g.N * g.OH * g.OW);
    }

    private static void DirectBackwardWeight<T>(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg dw) where T : unmanaged, INumber<T>
    {
        string op = desc.Op + "_backward_weight";
        var xv = Dense<T>(runtime, x, desc.InputSize, "input x", desc, op);
        var gv = Dense<T>(runtime, dy, desc.OutputSize, "output gradient dy", desc, op);
        var wv = Dense<T>(runtime, dw, desc.WeightSize, "weight gradient dw", desc, op);
        int n = (int)desc.WeightSize;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ConvGeometry, int>(
            DirectBackwardWeightKernel<T>)(runtime.Stream, runtime.GridStride(n), xv, gv, wv, ConvGeometry.Of(desc),
            n);
    }

    /// <summary>db = dy summed over the batch and the output pixels; db (K,) overwritten.</summary>
    public static void BackwardBias(GpuRuntime runtime, ConvolutionDescriptor desc, in TensorArg dy, in TensorArg db)
    {
        ArgumentNullException.ThrowIfNull(desc);
        string op = desc.Op + "_backward_bias";
        CheckSize(dy, desc.OutputSize, "output gradient dy", desc, op);
        CheckSize(db, desc.OutChannels, "bias gradient db", desc, op);
        var planes = dy.WithLayout(new TensorLayout(
            new Shape(desc.Batch, desc.OutChannels, desc.OutHeight * desc.OutWidth),
            [(long)desc.OutChannels * desc.OutHeight * desc.OutWidth, desc.OutHeight * desc.OutWidth, 1], dy.Offset));
        GpuReduce.Reduce(runtime, ReduceOp.Sum, planes, [0, 2], db);
    }

    private static ArrayView<T> Dense<T>(GpuRuntime runtime, in TensorArg x, long size, string what,
        ConvolutionDescriptor desc, string op) where T : unmanaged
    {
        CheckSize(x, size, what, desc, op);
        return x.Elements<T>(runtime, op);
    }

    private static void CheckSize(in TensorArg x, long size, string what, ConvolutionDescriptor desc, string op)
    {
        if (x.Size != size)
            throw new ArgumentException(
                $"{op}: {what} has {x.Size} elements but {desc} needs {size}; pass an array of exactly that size.");
    }

    private static void DirectForwardKernel<T>(ArrayView<T> x, ArrayView<T> w, ArrayView<T> bias, int hasBias,
        ArrayView<T> y, ConvGeometry g, int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int ow = u % g.OW;
            int rest = u / g.OW;
            int oh = rest % g.OH;
            rest /= g.OH;
            int k = rest % g.K;
            int n = rest / g.K;
            int group = k / g.Kg;
            T sum = hasBias != 0 ? bias[k] : T.Zero;
            for (int c = 0; c < g.Cg; c++)
            {
                int xPlane = (n * g.C + group * g.Cg + c) * g.H;
                int wBase = (k * g.Cg + c) * g.R;
                for (int r = 0; r < g.R; r++)
                {
                    int ih = oh * g.StrideH - g.PadH + r * g.DilationH;
                    if (ih < 0 || ih >= g.H) continue;
                    for (int s = 0; s < g.S; s++)
                    {
                        int iw = ow * g.StrideW - g.PadW + s * g.DilationW;
                        if (iw < 0 || iw >= g.W) continue;
                        sum += x[(xPlane + ih) * g.W + iw] * w[(wBase + r) * g.S + s];
                    }
                }
            }
            y[u] = sum;
        }
    }

    private static void BackwardDataKernel<T>(ArrayView<T> dy, ArrayView<T> w, ArrayView<T> bias, int hasBias,
        ArrayView<T> dx, ConvGeometry g, int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int iw = u % g.W;
            int rest = u / g.W;
            int ih = rest % g.H;
            rest /= g.H;
            int c = rest % g.C;
            int n = rest / g.C;
            int group = c / g.Cg, cInGroup = c - group * g.Cg;
            T sum = T.Zero;
            for (int r = 0; r < g.R; r++)
            {
                // Output row oh reads this input row through tap r when oh * stride = ih + pad - r * dilation.
                int th = ih + g.PadH - r * g.DilationH;
                if (th < 0 || th % g.StrideH != 0) continue;
                int oh = th / g.StrideH;
                if (oh >= g.OH) continue;
                for (int s = 0; s < g.S; s++)
                {
                    int tw = iw + g.PadW - s * g.DilationW;
                    if (tw < 0 || tw % g.StrideW != 0) continue;
                    int ow = tw / g.StrideW;
                    if (ow >= g.OW) continue;
                    for (int kk = 0; kk < g.Kg; kk++)
                    {
                        int k = group * g.Kg + kk;
                        sum += dy[((n * g.K + k) * g.OH + oh) * g.OW + ow]
                            * w[((k * g.Cg + cInGroup) * g.R + r) * g.S + s];
                    }
                }
            }
            // The bias is added after the sum, as the CPU's transposed convolution does.
            dx[u] = hasBias != 0 ? sum + bias[c] : sum;
        }
    }

    private static void DirectBackwardWeightKernel<T>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> dw,
        ConvGeometry g, int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int s = u % g.S;
            int rest = u / g.S;
            int r = rest % g.R;
            rest /= g.R;
            int c = rest % g.Cg;
            int k = rest / g.Cg;
            int xChannel = k / g.Kg * g.Cg + c;
            T sum = T.Zero;
            for (int n = 0; n < g.N; n++)
            {
                int xPlane = (n * g.C + xChannel) * g.H, yPlane = (n * g.K + k) * g.OH;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int ih = oh * g.StrideH - g.PadH + r * g.DilationH;
                    if (ih < 0 || ih >= g.H) continue;
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        int iw = ow * g.StrideW - g.PadW + s * g.DilationW;
                        if (iw < 0 || iw >= g.W) continue;
                        sum += x[(xPlane + ih) * g.W + iw] * dy[(yPlane + oh) * g.OW + ow];
                    }
                }
            }
            dw[u] = sum;
        }
    }
}
