using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// 3-D convolution on the GPU, float32 and float64, NCDHW, groups and dilation, laid out as
/// <see cref="GpuConvolution"/>: float32 forward and weight gradient are implicit GEMMs through the tiled SGEMM
/// kernel over the vol2col matrix (computed while the tiles are staged, never stored), layers with few input
/// channels per group run the direct forward kernel; float64 runs the direct kernels (forward one thread per output
/// element, weight gradient one thread per weight element). The data gradient is a gather, one thread per input
/// element (no atomics, a fixed order), which is also the forward pass of the 3-D transposed convolution.
/// </summary>
public static class GpuConvolution3D
{
    /// <summary>y = conv3d(x, w) + bias; bias (K,) or null for none; y overwritten.</summary>
    public static void Forward(GpuRuntime runtime, Convolution3DDescriptor desc, in TensorArg x, in TensorArg w,
        TensorArg? bias, in TensorArg y)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
        {
            DirectForward<double>(runtime, desc, x, w, bias, y);
            return;
        }
        if (desc.InChannelsPerGroup <= GpuConvolution.DirectMaxChannels)
        {
            DirectForward<float>(runtime, desc, x, w, bias, y);
            return;
        }
        const string op = "conv3d";
        var xv = Dense<float>(runtime, x, desc.InputSize, "input x", desc, op);
        var wv = Dense<float>(runtime, w, desc.WeightSize, "weight w", desc, op);
        var yv = Dense<float>(runtime, y, desc.OutputSize, "output y", desc, op);
        var bv = bias is { } b ? Dense<float>(runtime, b, desc.OutChannels, "bias", desc, op) : wv;
        if (desc.OutputSize == 0) return;
        var g = Conv3DGeometry.Of(desc);
        int ctrs = g.Cg * g.Taps;
        var a = new DenseSource { Data = wv, Offset = 0, BatchStride = g.Kg * ctrs, Ld = ctrs };
        var cols = new Conv3DViews.Columns { X = xv, Geometry = g };
        var target = new Conv3DViews.Output { Data = yv, Bias = bv, HasBias = bias is null ? 0 : 1, Geometry = g };
        GpuGemm.Tiled(runtime, a, cols, target, desc.Groups, g.Kg, g.N * g.OutputVolume, ctrs);
    }

    private static void DirectForward<T>(GpuRuntime runtime, Convolution3DDescriptor desc, in TensorArg x,
        in TensorArg w, TensorArg? bias, in TensorArg y) where T : unmanaged, INumber<T>
    {
        const string op = "conv3d";
        var xv = Dense<T>(runtime, x, desc.InputSize, "input x", desc, op);
        var wv = Dense<T>(runtime, w, desc.WeightSize, "weight w", desc, op);
        var yv = Dense<T>(runtime, y, desc.OutputSize, "output y", desc, op);
        var bv = bias is { } b ? Dense<T>(runtime, b, desc.OutChannels, "bias", desc, op) : wv;
        if (desc.OutputSize == 0) return;
        int n = (int)desc.OutputSize;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, ArrayView<T>, Conv3DGeometry, int>(
            DirectForwardKernel<T>)(runtime.Stream, runtime.GridStride(n), xv, wv, bv, bias is null ? 0 : 1, yv,
            Conv3DGeometry.Of(desc), n);
    }

    /// <summary>
    /// dx from dy and w, plus a per-channel bias of dx when given (the transposed convolution's bias); dx
    /// overwritten.
    /// </summary>
    public static void BackwardData(GpuRuntime runtime, Convolution3DDescriptor desc, in TensorArg dy,
        in TensorArg w, in TensorArg dx, TensorArg? bias = null)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (dy.DType == DType.Float64) BackwardData<double>(runtime, desc, dy, w, dx, bias);
        else BackwardData<float>(runtime, desc, dy, w, dx, bias);
    }

    private static void BackwardData<T>(GpuRuntime runtime, Convolution3DDescriptor desc, in TensorArg dy,
        in TensorArg w, in TensorArg dx, TensorArg? bias) where T : unmanaged, INumber<T>
    {
        const string op = "conv3d_backward_data";
        var gv = Dense<T>(runtime, dy, desc.OutputSize, "output gradient dy", desc, op);
        var wv = Dense<T>(runtime, w, desc.WeightSize, "weight w", desc, op);
        var dv = Dense<T>(runtime, dx, desc.InputSize, "input gradient dx", desc, op);
        var bv = bias is { } b ? Dense<T>(runtime, b, desc.InChannels, "bias", desc, op) : wv;
        int n = (int)desc.InputSize;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, ArrayView<T>, Conv3DGeometry, int>(
            BackwardDataKernel<T>)(runtime.Stream, runtime.GridStride(n), gv, wv, bv, bias is null ? 0 : 1, dv,
            Conv3DGeometry.Of(desc), n);
    }

    /// <summary>dw from x and dy; dw overwritten.</summary>
    public static void BackwardWeight(GpuRuntime runtime, Convolution3DDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg dw)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
        {
            DirectBackwardWeight<double>(runtime, desc, x, dy, dw);
            return;
        }
        const string op = "conv3d_backward_weight";
        var xv = Dense<float>(runtime, x, desc.InputSize, "input x", desc, op);
        var gv = Dense<float>(runtime, dy, desc.OutputSize, "output gradient dy", desc, op);
        var wv = Dense<float>(runtime, dw, desc.WeightSize, "weight gradient dw", desc, op);
        if (desc.WeightSize == 0) return;
        var g = Conv3DGeometry.Of(desc);
        if (g.N * g.OutputVolume == 0)
        {
            GpuLayout.Zero(runtime, wv);
            return;
        }
        // Per group: dy (Kg x N OD OH OW) times the transposed vol2col matrix.
        int ctrs = g.Cg * g.Taps;
        var a = new Conv3DViews.OutputGradient { Data = gv, Geometry = g };
        var b = new Conv3DViews.ColumnsTransposed { X = xv, Geometry = g };
        var target = new DenseTarget { Data = wv, Offset = 0, BatchStride = g.Kg * ctrs, Ld = ctrs, Alpha = 1f };
        GpuGemm.Tiled(runtime, a, b, target, desc.Groups, g.Kg, ctrs, g.N * g.OutputVolume);
    }

    private static void DirectBackwardWeight<T>(GpuRuntime runtime, Convolution3DDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg dw) where T : unmanaged, INumber<T>
    {
        const string op = "conv3d_backward_weight";
        var xv = Dense<T>(runtime, x, desc.InputSize, "input x", desc, op);
        var gv = Dense<T>(runtime, dy, desc.OutputSize, "output gradient dy", desc, op);
        var wv = Dense<T>(runtime, dw, desc.WeightSize, "weight gradient dw", desc, op);
        int n = (int)desc.WeightSize;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, Conv3DGeometry, int>(
            DirectBackwardWeightKernel<T>)(runtime.Stream, runtime.GridStride(n), xv, gv, wv,
            Conv3DGeometry.Of(desc), n);
    }

    private static ArrayView<T> Dense<T>(GpuRuntime runtime, in TensorArg x, long size, string what,
        Convolution3DDescriptor desc, string op) where T : unmanaged
    {
        if (x.Size != size)
            throw new ArgumentException(
                $"{op}: {what} has {x.Size} elements but {desc} needs {size}; pass an array of exactly that size.");
        return x.Elements<T>(runtime, op);
    }

    private static void DirectForwardKernel<T>(ArrayView<T> x, ArrayView<T> w, ArrayView<T> bias, int hasBias,
        ArrayView<T> y, Conv3DGeometry g, int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int ow = u % g.OW;
            int rest = u / g.OW;
            int oh = rest % g.OH;
            rest /= g.OH;
            int od = rest % g.OD;
            rest /= g.OD;
            int k = rest % g.K;
            int n = rest / g.K;
            int group = k / g.Kg;
            T sum = hasBias != 0 ? bias[k] : T.Zero;
            for (int c = 0; c < g.Cg; c++)
            {
                int xVolume = (n * g.C + group * g.Cg + c) * g.D;
                int wBase = (k * g.Cg + c) * g.T;
                for (int t = 0; t < g.T; t++)
                {
                    int id = od * g.StrideD - g.PadD + t * g.DilationD;
                    if (id < 0 || id >= g.D) continue;
                    for (int r = 0; r < g.R; r++)
                    {
                        int ih = oh * g.StrideH - g.PadH + r * g.DilationH;
                        if (ih < 0 || ih >= g.H) continue;
                        int xRow = ((xVolume + id) * g.H + ih) * g.W, wRow = ((wBase + t) * g.R + r) * g.S;
                        for (int s = 0; s < g.S; s++)
                        {
                            int iw = ow * g.StrideW - g.PadW + s * g.DilationW;
                            if (iw < 0 || iw >= g.W) continue;
                            sum += x[xRow + iw] * w[wRow + s];
                        }
                    }
                }
            }
            y[u] = sum;
        }
    }

    private static void BackwardDataKernel<T>(ArrayView<T> dy, ArrayView<T> w, ArrayView<T> bias, int hasBias,
        ArrayView<T> dx, Conv3DGeometry g, int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int iw = u % g.W;
            int rest = u / g.W;
            int ih = rest % g.H;
            rest /= g.H;
            int id = rest % g.D;
            rest /= g.D;
            int c = rest % g.C;
            int n = rest / g.C;
            int group = c / g.Cg, cInGroup = c - group * g.Cg;
            T sum = T.Zero;
            for (int t = 0; t < g.T; t++)
            {
                // Output voxel od reads this input plane through tap t when od * stride = id + pad - t * dilation.
                int td = id + g.PadD - t * g.DilationD;
                if (td < 0 || td % g.StrideD != 0) continue;
                int od = td / g.StrideD;
                if (od >= g.OD) continue;
                for (int r = 0; r < g.R; r++)
                {
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
                            sum += dy[(((n * g.K + k) * g.OD + od) * g.OH + oh) * g.OW + ow]
                                * w[(((k * g.Cg + cInGroup) * g.T + t) * g.R + r) * g.S + s];
                        }
                    }
                }
            }
            // The bias is added after the sum, as the CPU's transposed convolution does.
            dx[u] = hasBias != 0 ? sum + bias[c] : sum;
        }
    }

    private static void DirectBackwardWeightKernel<T>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> dw,
        Conv3DGeometry g, int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int s = u % g.S;
            int rest = u / g.S;
            int r = rest % g.R;
            rest /= g.R;
            int t = rest % g.T;
            rest /= g.T;
            int c = rest % g.Cg;
            int k = rest / g.Cg;
            int xChannel = k / g.Kg * g.Cg + c;
            T sum = T.Zero;
            for (int n = 0; n < g.N; n++)
            {
                int xVolume = (n * g.C + xChannel) * g.D, yVolume = (n * g.K + k) * g.OD;
                for (int od = 0; od < g.OD; od++)
                {
                    int id = od * g.StrideD - g.PadD + t * g.DilationD;
                    if (id < 0 || id >= g.D) continue;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadH + r * g.DilationH;
                        if (ih < 0 || ih >= g.H) continue;
                        int xRow = ((xVolume + id) * g.H + ih) * g.W, yRow = ((yVolume + od) * g.OH + oh) * g.OW;
                        for (int ow = 0; ow < g.OW; ow++)
                        {
                            int iw = ow * g.StrideW - g.PadW + s * g.DilationW;
                            if (iw < 0 || iw >= g.W) continue;
                            sum += x[xRow + iw] * dy[yRow + ow];
                        }
                    }
                }
            }
            dw[u] = sum;
        }
    }
}
