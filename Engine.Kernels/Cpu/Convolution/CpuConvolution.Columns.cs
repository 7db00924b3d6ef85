using System.Numerics;

namespace Engine.Kernels.Cpu;

// The im2col matrix of one image and one group has a row per (c, r, s) of the group's input channels and kernel
// taps, in weight order, and a column per output pixel p = oh * OW + ow; its element is
// x[c, oh * sh - ph + r * dh, ow * sw - pw + s * dw], or 0 in the padding. The kernels only ever build a tile of it.
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// Writes rows [row0, row0 + rows) and columns [p0, p0 + count) of the im2col matrix of the image-group whose
    /// first channel starts at <paramref name="x"/>: element (row0 + i, p0 + q) goes to
    /// dst[i * rowStride + q * colStride].
    /// </summary>
    private static void Im2Col<T>(ConvolutionDescriptor d, T* x, int row0, int rows, int p0, int count, T* dst,
        nint rowStride, nint colStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = d.InHeight, w = d.InWidth, ow = d.OutWidth, sh = d.StrideH, sw = d.StrideW;
        int taps = d.KernelH * d.KernelW;
        for (int i = 0; i < rows; i++)
        {
            int row = row0 + i;
            int ch = row / taps, r = row % taps / d.KernelW, s = row % d.KernelW;
            int offH = r * d.DilationH - d.PadH, offW = s * d.DilationW - d.PadW;
            var (lo, hi) = ValidColumns(offW, sw, w, ow);
            T* xc = x + (nint)ch * h * w;
            T* dRow = dst + i * rowStride;
            for (int p = p0, end = p0 + count; p < end;)
            {
                // One output row at a time: ih is fixed, and ow in [lo, hi) reads inside the input row.
                int oh = p / ow, ow0 = p - oh * ow, ow1 = Math.Min(ow, ow0 + (end - p));
                T* dSeg = dRow + (p - p0 - ow0) * colStride;
                int ih = oh * sh + offH;
                int a = ow1, b = ow1;  // a row in the padding is all zeros
                if ((uint)ih < (uint)h)
                {
                    a = Math.Clamp(lo, ow0, ow1);
                    b = Math.Clamp(hi, a, ow1);
                    T* xRow = xc + (nint)ih * w + offW;
                    if (sw == 1 && colStride == 1)
                        new ReadOnlySpan<T>(xRow + a, b - a).CopyTo(new Span<T>(dSeg + a, b - a));
                    else
                        for (int q = a; q < b; q++) dSeg[q * colStride] = xRow[(nint)q * sw];
                }
                if (colStride == 1)
                {
                    new Span<T>(dSeg + ow0, a - ow0).Clear();
                    new Span<T>(dSeg + b, ow1 - b).Clear();
                }
                else
                {
                    for (int q = ow0; q < a; q++) dSeg[q * colStride] = T.Zero;
                    for (int q = b; q < ow1; q++) dSeg[q * colStride] = T.Zero;
                }
                p += ow1 - ow0;
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col{T}"/> for a row-major tile (rows [row0, row0 + rows), columns
    /// [p0, p0 + count), leading dimension count): adds each element onto the input position it was read from.
    /// </summary>
    private static void Col2ImAdd<T>(ConvolutionDescriptor d, T* col, int row0, int rows, int p0, int count, T* dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = d.InHeight, w = d.InWidth, ow = d.OutWidth, sh = d.StrideH, sw = d.StrideW;
        int taps = d.KernelH * d.KernelW;
        for (int i = 0; i < rows; i++)
        {
            int row = row0 + i;
            int ch = row / taps, r = row % taps / d.KernelW, s = row % d.KernelW;
            int offH = r * d.DilationH - d.PadH, offW = s * d.DilationW - d.PadW;
            var (lo, hi) = ValidColumns(offW, sw, w, ow);
            T* dxc = dx + (nint)ch * h * w;
            T* cRow = col + (nint)i * count;
            for (int p = p0, end = p0 + count; p < end;)
            {
                int oh = p / ow, ow0 = p - oh * ow, ow1 = Math.Min(ow, ow0 + (end - p));
                int ih = oh * sh + offH;
                if ((uint)ih < (uint)h)
                {
                    T* cSeg = cRow + (p - p0 - ow0);
                    T* dxRow = dxc + (nint)ih * w + offW;
                    int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, a, ow1);
                    if (sw == 1)
                        AddTo(dxRow + a, cSeg + a, b - a);
                    else
                        for (int q = a; q < b; q++) dxRow[(nint)q * sw] += cSeg[q];
                }
                p += ow1 - ow0;
            }
        }
    }

    /// <summary>The output columns [lo, hi) whose input column ow * stride + offset lies in [0, width).</summary>
    private static (int Lo, int Hi) ValidColumns(int offset, int stride, int width, int outWidth)
    {
        int lo = Math.Max(0, CeilDiv(-offset, stride));
        int hi = Math.Min(outWidth, CeilDiv(width - offset, stride));
        return (Math.Min(lo, outWidth), Math.Max(hi, Math.Min(lo, outWidth)));
    }

    // Ceiling division for a positive divisor and a numerator of either sign.
    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);
}
