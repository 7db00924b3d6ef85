using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// 3-D convolution on the CPU, NCDHW, as described by a <see cref="Convolution3DDescriptor"/>: forward and the three
/// gradients of backward. Each pass runs image by image and group by group as vol2col (the 3-D im2col: one row
/// per (channel, tap), one column per output voxel) and one <see cref="CpuGemm"/> product, which parallelises and
/// sums every element in an order fixed by the shapes, so results do not depend on the thread count. A 1x1x1
/// stride-1 unpadded layer skips the copy: its column matrix is the input itself.
/// </summary>
public static unsafe class CpuConvolution3D
{
    // Column elements per parallel chunk of vol2col / col2vol: smaller chunks cost more to hand out than they save.
    private const long MinCopyPerChunk = 1 << 15;

    /// <summary>y = conv3d(x, w) + bias; bias is (K,) or empty for none; y is overwritten.</summary>
    public static void Forward<T>(Convolution3DDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> bias, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireLength(desc, "input", x.Length, desc.InputSize, desc.InputShape);
        RequireLength(desc, "weight", w.Length, desc.WeightSize, desc.WeightShape);
        if (bias.Length != 0 && bias.Length != desc.OutChannels)
            throw new ArgumentException(
                $"conv3d: bias has {bias.Length} elements but needs {desc.OutChannels} (one per output channel), " +
                "or none for no bias.", nameof(bias));
        RequireLength(desc, "output", y.Length, desc.OutputSize, desc.OutputShape);
        int kg = desc.OutChannelsPerGroup, depth = Depth(desc);
        long pixels = desc.Output.Volume, inPlane = desc.Input.Volume;
        T[]? col = IsPointwise(desc) ? null : GC.AllocateUninitializedArray<T>(checked((int)(depth * pixels)));
        fixed (T* px = x, pw = w, py = y, pcol = col)
        {
            for (int n = 0; n < desc.Batch; n++)
            for (int g = 0; g < desc.Groups; g++)
            {
                T* xg = px + ((long)n * desc.InChannels + (long)g * desc.InChannelsPerGroup) * inPlane;
                T* yg = py + ((long)n * desc.OutChannels + (long)g * kg) * pixels;
                T* b = xg;
                if (col is not null)
                {
                    VolToCol(desc, xg, pcol);
                    b = pcol;
                }
                CpuGemm.Gemm(false, false, kg, (int)pixels, depth, T.One,
                    new ReadOnlySpan<T>(pw + (long)g * kg * depth, kg * depth), depth,
                    new ReadOnlySpan<T>(b, checked((int)(depth * pixels))), (int)pixels, T.Zero,
                    new Span<T>(yg, checked((int)(kg * pixels))), (int)pixels);
            }
            if (!bias.IsEmpty) AddBias(desc, bias, py);
        }
    }

    /// <summary>dx = d(loss)/dx given dy and the weight; dx is overwritten.</summary>
    public static void BackwardData<T>(Convolution3DDescriptor desc, ReadOnlySpan<T> dy, ReadOnlySpan<T> w,
        Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireLength(desc, "output gradient (dy)", dy.Length, desc.OutputSize, desc.OutputShape);
        RequireLength(desc, "weight", w.Length, desc.WeightSize, desc.WeightShape);
        RequireLength(desc, "input gradient (dx)", dx.Length, desc.InputSize, desc.InputShape);
        int kg = desc.OutChannelsPerGroup, depth = Depth(desc);
        long pixels = desc.Output.Volume, inPlane = desc.Input.Volume;
        bool pointwise = IsPointwise(desc);
        T[]? col = pointwise ? null : GC.AllocateUninitializedArray<T>(checked((int)(depth * pixels)));
        if (!pointwise) dx.Clear();
        fixed (T* pdy = dy, pw = w, pdx = dx, pcol = col)
        {
            for (int n = 0; n < desc.Batch; n++)
            for (int g = 0; g < desc.Groups; g++)
            {
                T* dxg = pdx + ((long)n * desc.InChannels + (long)g * desc.InChannelsPerGroup) * inPlane;
                T* dyg = pdy + ((long)n * desc.OutChannels + (long)g * kg) * pixels;
                // col = W_g^T dy_g: one row per (channel, tap), scattered back onto the input by col2vol.
                T* c = pointwise ? dxg : pcol;
                CpuGemm.Gemm(true, false, depth, (int)pixels, kg, T.One,
                    new ReadOnlySpan<T>(pw + (long)g * kg * depth, kg * depth), depth,
                    new ReadOnlySpan<T>(dyg, checked((int)(kg * pixels))), (int)pixels, T.Zero,
                    new Span<T>(c, checked((int)(depth * pixels))), (int)pixels);
                if (!pointwise) ColToVol(desc, pcol, dxg);
            }
        }
    }

    /// <summary>dw = d(loss)/dw given the input x and dy; dw is overwritten.</summary>
    public static void BackwardWeight<T>(Convolution3DDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> dy,
        Span<T> dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireLength(desc, "input", x.Length, desc.InputSize, desc.InputShape);
        RequireLength(desc, "output gradient (dy)", dy.Length, desc.OutputSize, desc.OutputShape);
        RequireLength(desc, "weight gradient (dw)", dw.Length, desc.WeightSize, desc.WeightShape);
        int kg = desc.OutChannelsPerGroup, depth = Depth(desc);
        long pixels = desc.Output.Volume, inPlane = desc.Input.Volume;
        T[]? col = IsPointwise(desc) ? null : GC.AllocateUninitializedArray<T>(checked((int)(depth * pixels)));
        dw.Clear();
        fixed (T* px = x, pdy = dy, pdw = dw, pcol = col)
        {
            for (int n = 0; n < desc.Batch; n++)
            for (int g = 0; g < desc.Groups; g++)
            {
                T* xg = px + ((long)n * desc.InChannels + (long)g * desc.InChannelsPerGroup) * inPlane;
                T* dyg = pdy + ((long)n * desc.OutChannels + (long)g * kg) * pixels;
                T* b = xg;
                if (col is not null)
                {
                    VolToCol(desc, xg, pcol);
                    b = pcol;
                }
                // dW_g += dy_g col^T, images summed in order.
                CpuGemm.Gemm(false, true, kg, depth, (int)pixels, T.One,
                    new ReadOnlySpan<T>(dyg, checked((int)(kg * pixels))), (int)pixels,
                    new ReadOnlySpan<T>(b, checked((int)(depth * pixels))), (int)pixels, T.One,
                    new Span<T>(pdw + (long)g * kg * depth, kg * depth), depth);
            }
        }
    }

    // Rows of the column matrix: input channels per group times kernel taps.
    private static int Depth(Convolution3DDescriptor d) => checked((int)(d.InChannelsPerGroup * d.Kernel.Volume));

    private static bool IsPointwise(Convolution3DDescriptor d) =>
        d.Kernel == Size3.All(1) && d.Stride == Size3.All(1) && d.Pad == Size3.All(0);

    // col[(c, kd, kh, kw), (od, oh, ow)] = x[c, od * sd - pd + kd * dd, ...], 0 outside the input.
    private static void VolToCol<T>(Convolution3DDescriptor d, T* x, T* col)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long rows = Depth(d), pixels = d.Output.Volume;
        nint xs = (nint)x, cs = (nint)col;
        CpuParallel.For(rows, Math.Max(1, MinCopyPerChunk / Math.Max(1, pixels)), (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                var (c, kd, kh, kw) = Tap(d, r);
                T* plane = (T*)xs + c * d.Input.Volume;
                T* row = (T*)cs + r * pixels;
                for (int od = 0; od < d.Output.D; od++)
                {
                    int id = od * d.Stride.D - d.Pad.D + kd * d.Dilation.D;
                    for (int oh = 0; oh < d.Output.H; oh++)
                    {
                        int ih = oh * d.Stride.H - d.Pad.H + kh * d.Dilation.H;
                        T* dst = row + ((long)od * d.Output.H + oh) * d.Output.W;
                        if ((uint)id >= (uint)d.Input.D || (uint)ih >= (uint)d.Input.H)
                        {
                            new Span<T>(dst, d.Output.W).Clear();
                            continue;
                        }
                        T* src = plane + ((long)id * d.Input.H + ih) * d.Input.W;
                        for (int ow = 0; ow < d.Output.W; ow++)
                        {
                            int iw = ow * d.Stride.W - d.Pad.W + kw * d.Dilation.W;
                            dst[ow] = (uint)iw < (uint)d.Input.W ? src[iw] : T.Zero;
                        }
                    }
                }
            }
        });
    }

    // dx[c, ...] += col[(c, taps), pixels]: the adjoint of VolToCol. Channels are split among threads, and each
    // channel adds its taps in row order, so every dx element sums in a fixed order.
    private static void ColToVol<T>(Convolution3DDescriptor d, T* col, T* dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long taps = d.Kernel.Volume, pixels = d.Output.Volume;
        nint xs = (nint)dx, cs = (nint)col;
        CpuParallel.For(d.InChannelsPerGroup, Math.Max(1, MinCopyPerChunk / Math.Max(1, taps * pixels)),
            (start, end) =>
            {
                for (long c = start; c < end; c++)
                for (long t = 0; t < taps; t++)
                {
                    long r = c * taps + t;
                    var (_, kd, kh, kw) = Tap(d, r);
                    T* plane = (T*)xs + c * d.Input.Volume;
                    T* row = (T*)cs + r * pixels;
                    for (int od = 0; od < d.Output.D; od++)
                    {
                        int id = od * d.Stride.D - d.Pad.D + kd * d.Dilation.D;
                        if ((uint)id >= (uint)d.Input.D) continue;
                        for (int oh = 0; oh < d.Output.H; oh++)
                        {
                            int ih = oh * d.Stride.H - d.Pad.H + kh * d.Dilation.H;
                            if ((uint)ih >= (uint)d.Input.H) continue;
                            T* src = row + ((long)od * d.Output.H + oh) * d.Output.W;
                            T* dst = plane + ((long)id * d.Input.H + ih) * d.Input.W;
                            for (int ow = 0; ow < d.Output.W; ow++)
                            {
                                int iw = ow * d.Stride.W - d.Pad.W + kw * d.Dilation.W;
                                if ((uint)iw < (uint)d.Input.W) dst[iw] += src[ow];
                            }
                        }
                    }
                }
            });
    }

    private static (long C, int Kd, int Kh, int Kw) Tap(Convolution3DDescriptor d, long row)
    {
        long taps = d.Kernel.Volume, t = row % taps;
        int khw = d.Kernel.H * d.Kernel.W;
        return (row / taps, (int)(t / khw), (int)(t % khw / d.Kernel.W), (int)(t % d.Kernel.W));
    }

    private static void AddBias<T>(Convolution3DDescriptor d, ReadOnlySpan<T> bias, T* y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long pixels = d.Output.Volume;
        for (int n = 0; n < d.Batch; n++)
        for (int k = 0; k < d.OutChannels; k++)
        {
            var plane = new Span<T>(y + ((long)n * d.OutChannels + k) * pixels, (int)pixels);
            T b = bias[k];
            for (int i = 0; i < plane.Length; i++) plane[i] += b;
        }
    }

    private static void RequireLength(Convolution3DDescriptor d, string what, int length, long expected,
        Shape shape)
    {
        if (length != expected)
            throw new ArgumentException(
                $"conv3d: {what} has {length} elements but {d} needs {expected} for shape {shape}; pass a buffer " +
                "of exactly that size.");
    }
}
