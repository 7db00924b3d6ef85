using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// Row <paramref name="row"/> of the im2col matrix of one image-group (first channel at <paramref name="x"/>),
    /// output pixels [p0, p0 + count), into dst[0, count).
    /// </summary>
    private static void ColumnRow<T>(ConvolutionDescriptor d, int row, T* x, int p0, int count, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = d.InHeight, w = d.InWidth, ow = d.OutWidth, sh = d.StrideH, sw = d.StrideW;
        int taps = d.KernelH * d.KernelW;
        int ch = row / taps, r = row % taps / d.KernelW, s = row % d.KernelW;
        int offH = r * d.DilationH - d.PadH, offW = s * d.DilationW - d.PadW;
        var (lo, hi) = ValidColumns(offW, sw, w, ow);
        T* xc = x + (nint)ch * h * w;
        for (int p = p0, end = p0 + count; p < end;)
        {
            // One output row at a time: ih is fixed, and ow in [lo, hi) reads inside the input row.
            int oh = p / ow, ow0 = p - oh * ow, ow1 = Math.Min(ow, ow0 + (end - p));
            int ih = oh * sh + offH;
            T* seg = dst + (p - p0);
            if ((uint)ih < (uint)h)
            {
                int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, a, ow1);
                GatherSegment(xc + (nint)ih * w + offW, sw, ow0, ow1, a, b, seg);
            }
            else
            {
                new Span<T>(seg, ow1 - ow0).Clear();
            }
            p += ow1 - ow0;
        }
    }

    /// <summary>
    /// The adjoint of <see cref="ColumnRow{T}"/>: adds src[0, count) onto the input-gradient plane of the row's
    /// channel (<paramref name="plane"/> is that channel's plane).
    /// </summary>
    private static void AddColumnRow<T>(ConvolutionDescriptor d, int row, T* src, int p0, int count, T* plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = d.InHeight, w = d.InWidth, ow = d.OutWidth, sh = d.StrideH, sw = d.StrideW;
        int taps = d.KernelH * d.KernelW;
        int r = row % taps / d.KernelW, s = row % d.KernelW;
        int offH = r * d.DilationH - d.PadH, offW = s * d.DilationW - d.PadW;
        var (lo, hi) = ValidColumns(offW, sw, w, ow);
        for (int p = p0, end = p0 + count; p < end;)
        {
            int oh = p / ow, ow0 = p - oh * ow, ow1 = Math.Min(ow, ow0 + (end - p));
            int ih = oh * sh + offH;
            if ((uint)ih < (uint)h)
            {
                int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, a, ow1);
                ScatterAddSegment(src + (p - p0), sw, ow0, a, b, plane + (nint)ih * w + offW);
            }
            p += ow1 - ow0;
        }
    }

    /// <summary>
    /// seg[q - ow0] = xRow[q * stride] for q in [a, b) and 0 for the rest of [ow0, ow1). Floats with AVX-512 or
    /// AVX2 use masked loads, a vector of outputs at a time: lanes outside [a, b) are neither read nor faulted on.
    /// </summary>
    private static void GatherSegment<T>(T* xRow, int stride, int ow0, int ow1, int a, int b, T* seg)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && stride <= 2 && Masked512.IsSupported)
        {
            GatherSegment<Vector512<float>, Masked512>((float*)xRow, stride, ow0, ow1, a, b, (float*)seg);
            return;
        }
        if (typeof(T) == typeof(float) && stride <= 2 && Masked256.IsSupported)
        {
            GatherSegment<Vector256<float>, Masked256>((float*)xRow, stride, ow0, ow1, a, b, (float*)seg);
            return;
        }
        new Span<T>(seg, a - ow0).Clear();
        if (stride == 1)
        {
            new ReadOnlySpan<T>(xRow + a, b - a).CopyTo(new Span<T>(seg + (a - ow0), b - a));
        }
        else
        {
            int q = a;
            if (typeof(T) == typeof(float) && stride == 2 && Lanes128.IsSupported)
            {
                // ARM64's AdvSimd: the even lanes of two vectors, 4 outputs a step. A step reads up to input
                // 2q + 7, so it stops while that is still before input 2(b - 1), the last one in bounds.
                float* xs = (float*)xRow, ys = (float*)seg - ow0;
                for (; q + 5 <= b; q += 4)
                    Lanes128.EvenOf(Vector128.Load(xs + 2 * q), Vector128.Load(xs + 2 * q + 4)).Store(ys + q);
            }
            for (; q < b; q++) seg[q - ow0] = xRow[(nint)q * stride];
        }
        new Span<T>(seg + (b - ow0), ow1 - b).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GatherSegment<TV, TS>(float* xRow, int stride, int ow0, int ow1, int a, int b, float* seg)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        int width = TS.Width;
        for (int q0 = ow0; q0 < ow1; q0 += width)
        {
            int n = Math.Min(width, ow1 - q0);
            int va = Math.Clamp(a - q0, 0, n), vb = Math.Clamp(b - q0, va, n);
            TV v;
            if (stride == 1)
            {
                v = TS.MaskLoad(xRow + q0, TS.Mask(va, vb));
            }
            else
            {
                // Inputs 2 * va .. 2 * (vb - 1) of two vectors, then the even lanes of the pair.
                float* src = xRow + 2 * q0;
                var low = TS.MaskLoad(src, TS.Mask(2 * va, 2 * vb - 1));
                var high = TS.MaskLoad(src + width, TS.Mask(2 * va - width, 2 * vb - 1 - width));
                v = TS.Even(low, high);
            }
            float* dst = seg + (q0 - ow0);
            if (n == width) TS.Store(v, dst);
            else TS.MaskStore(dst, TS.Mask(0, n), v);
        }
    }

    /// <summary>dxRow[q * stride] += src[q - ow0] for q in [a, b).</summary>
    private static void ScatterAddSegment<T>(T* src, int stride, int ow0, int a, int b, T* dxRow)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && stride <= 2 && Masked512.IsSupported)
        {
            ScatterAddSegment<Vector512<float>, Masked512>((float*)src, stride, ow0, a, b, (float*)dxRow);
            return;
        }
        if (typeof(T) == typeof(float) && stride <= 2 && Masked256.IsSupported)
        {
            ScatterAddSegment<Vector256<float>, Masked256>((float*)src, stride, ow0, a, b, (float*)dxRow);
            return;
        }
        int q0 = a;
        if (stride == 1 && Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            // ARM64's AdvSimd: each element gets the one addition the scalar loop gives it.
            for (; q0 <= b - Vector128<T>.Count; q0 += Vector128<T>.Count)
                (Vector128.Load(dxRow + q0) + Vector128.Load(src + (q0 - ow0))).Store(dxRow + q0);
        }
        for (int q = q0; q < b; q++) dxRow[(nint)q * stride] += src[q - ow0];
    }

    /// <summary>
    /// <see cref="ScatterAddSegment{T}"/> a vector of values at a time (masked at the end); for stride 2 the values
    /// are spread onto the even lanes of two vectors, whose odd lanes add zero: every element gets the one addition
    /// the scalar loop gives it, so the bits do not depend on the width.
    /// </summary>
    private static void ScatterAddSegment<TV, TS>(float* src, int stride, int ow0, int a, int b, float* dxRow)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        int width = TS.Width;
        for (int q0 = a; q0 < b; q0 += width)
        {
            int n = Math.Min(width, b - q0);
            var mask = TS.Mask(0, n);
            var v = TS.MaskLoad(src + (q0 - ow0), mask);
            if (stride == 1)
            {
                float* dst = dxRow + q0;
                TS.MaskStore(dst, mask, TS.Add(TS.MaskLoad(dst, mask), v));
            }
            else
            {
                float* dst = dxRow + 2 * q0;
                var lowMask = TS.Mask(0, 2 * n - 1);
                var highMask = TS.Mask(-width, 2 * n - 1 - width);
                var (low, high) = TS.SpreadEven(v);
                TS.MaskStore(dst, lowMask, TS.Add(TS.MaskLoad(dst, lowMask), low));
                TS.MaskStore(dst + width, highMask, TS.Add(TS.MaskLoad(dst + width, highMask), high));
            }
        }
    }

    /// <summary>Elements 0, 2, .., 14 of the 16 in lo:hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> EvenLanes256(Vector256<float> lo, Vector256<float> hi) => Masked256.Even(lo, hi);

    /// <summary>dst[0, n) = src[0, n).</summary>
    private static void CopyRun<T>(T* src, T* dst, int n) where T : unmanaged
    {
        if (typeof(T) == typeof(float) && Masked512.IsSupported)
            AddRun<Vector512<float>, Masked512, No>((float*)src, 0f, (float*)dst, n);
        else if (typeof(T) == typeof(float) && Masked256.IsSupported)
            AddRun<Vector256<float>, Masked256, No>((float*)src, 0f, (float*)dst, n);
        else
            new ReadOnlySpan<T>(src, n).CopyTo(new Span<T>(dst, n));
    }

    /// <summary>dst[0, n) = src[0, n) + value.</summary>
    private static void AddRun<T>(T* src, T value, T* dst, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        float add = typeof(T) == typeof(float) ? Unsafe.BitCast<T, float>(value) : 0f;
        if (typeof(T) == typeof(float) && Masked512.IsSupported)
        {
            AddRun<Vector512<float>, Masked512, Yes>((float*)src, add, (float*)dst, n);
            return;
        }
        if (typeof(T) == typeof(float) && Masked256.IsSupported)
        {
            AddRun<Vector256<float>, Masked256, Yes>((float*)src, add, (float*)dst, n);
            return;
        }
        int j = 0;
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            var v = Vector128.Create(value);
            for (; j <= n - Vector128<T>.Count; j += Vector128<T>.Count) (Vector128.Load(src + j) + v).Store(dst + j);
        }
        for (; j < n; j++) dst[j] = src[j] + value;
    }

    /// <summary>
    /// dst[0, n) = src[0, n), plus value when TA is set: whole vectors, then one masked vector for the tail (a plane
    /// of a 4x4 image is a single masked copy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRun<TV, TS, TA>(float* src, float value, float* dst, int n)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TA : struct, IFlag
    {
        var add = TS.Broadcast(value);
        int i = 0, width = TS.Width;
        for (; i + width <= n; i += width)
        {
            var v = TS.Load(src + i);
            TS.Store(TA.Value ? TS.Add(v, add) : v, dst + i);
        }
        if (i < n)
        {
            var mask = TS.Mask(0, n - i);
            var v = TS.MaskLoad(src + i, mask);
            TS.MaskStore(dst + i, mask, TA.Value ? TS.Add(v, add) : v);
        }
    }

    /// <summary>
    /// A float mask of the lanes in [lo, hi) (all bits set there, clear elsewhere); empty when hi &lt;= lo.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LaneMask(int lo, int hi) => Masked512.Mask(lo, hi);

    /// <summary>Lanes 0, 2, ..., 30 of a pair of vectors: every other input of a stride-2 row.</summary>
    private static Vector512<int> EvenLanes =>
        Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>
    /// Values 0..7 onto the even lanes, zero (lane 16: the second operand's first) onto the odd ones.
    /// </summary>
    private static Vector512<int> SpreadLow => Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);

    /// <summary>Values 0..7 onto the odd lanes, zero onto the even ones.</summary>
    private static Vector512<int> SpreadLowOdd =>
        Vector512.Create(16, 0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7);

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
