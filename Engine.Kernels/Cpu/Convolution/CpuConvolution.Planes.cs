using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

// im2col and col2im of whole float images through a zero-padded copy of one input plane at a time, with AVX-512.
// The padding makes every output row's run of inputs a plain (or stride-2) vector copy with no bounds to test, which
// is what small planes need: a 4x4 output has runs of 4, and per-run bookkeeping would cost more than the copy.
// Each plane's copy sits in a small per-thread buffer (on the stack) with slack after it, so that full-vector loads
// past a run's end stay inside it; stores to the column matrix are masked to the run.
public static unsafe partial class CpuConvolution
{
    /// <summary>Largest padded plane (elements) handled here: 32 KB of floats, on the stack.</summary>
    private const int MaxPaddedPlane = 8192;

    /// <summary>Most (16-wide run of an input row, tap column) pairs col2im keeps masks for, on the stack.</summary>
    private const int MaxRunTaps = 256;

    /// <summary>
    /// Images whose runs col2im sums side by side: every run's taps are one chain of dependent additions (up to 25
    /// of them, 4 cycles each), so with one image at a time the adds waited on each other.
    /// </summary>
    private const int ImagesAtOnce = 4;

    /// <summary>Elements after the padded plane that vector loads may touch: two vectors of a stride-2 run.</summary>
    private const int PlaneSlack = 48;

    /// <summary>
    /// Tests set this to run the padded-plane kernels in their Vector256 (AVX2) form on an AVX-512 machine too.
    /// </summary>
    internal static bool PlanesWithVector256 { get; set; }

    /// <summary>Whether the padded-plane kernels run their Vector256 form: AVX2 without AVX-512, or forced.</summary>
    private static bool Planes256 => Avx2.IsSupported && (!Avx512F.IsSupported || PlanesWithVector256);

    /// <summary>Whether whole images of this float layer go through the padded-plane kernels (AVX-512, AVX2).</summary>
    private static bool UsePaddedPlanes<T>(ConvolutionDescriptor d)
    {
        if (typeof(T) != typeof(float) || !Avx512F.IsSupported && !Avx2.IsSupported) return false;
        if (d.StrideW > 2) return false;
        long plane = (long)(d.InHeight + 2 * d.PadH) * (d.InWidth + 2 * d.PadW);
        long runTaps = (d.InWidth + 15L) / 16 * d.KernelW;
        return plane <= MaxPaddedPlane && runTaps <= MaxRunTaps;
    }

    /// <summary>
    /// The im2col matrix of whole images: image i of the block (group's first channel at x + i * imageStride)
    /// fills columns [i * P, (i + 1) * P) of rows [0, C/g * R * S) of col. Split over input channels.
    /// </summary>
    private static void BuildColumnsPadded(ConvolutionDescriptor d, float* x, long imageStride, int images,
        float* col, int ld)
    {
        int taps = d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth;
        nint xs = (nint)x, cs = (nint)col;
        CpuParallel.For(d.InChannelsPerGroup, CopyGrain((long)taps * images * pixels), (start, end) =>
        {
            int wp = d.InWidth + 2 * d.PadW, hp = d.InHeight + 2 * d.PadH;
            float* pad = stackalloc float[hp * wp + PlaneSlack];
            new Span<float>(pad, hp * wp + PlaneSlack).Clear();
            for (long c = start; c < end; c++)
            {
                for (int i = 0; i < images; i++)
                {
                    FillPaddedPlane(d, (float*)xs + i * imageStride + c * d.InHeight * d.InWidth, pad);
                    for (int t = 0; t < taps; t++)
                    {
                        float* dst = (float*)cs + (c * taps + t) * ld + (long)i * pixels;
                        PlaneToColumnRow(d, pad, wp, t, dst);
                    }
                }
            }
        });
    }

    /// <summary>
    /// The adjoint of <see cref="BuildColumnsPadded"/>: dx of the block's images (overwritten) from their column
    /// matrix, written once per element: each 16-wide run of an input row sums, in tap order, the column elements
    /// that were read from it (masked loads, spread onto every other lane for stride 2), four images at a time (see
    /// <see cref="ImagesAtOnce"/>). Gathering rather than scattering avoids the store-to-load stalls of adding
    /// overlapping runs into one plane tap after tap.
    /// </summary>
    private static void AddColumnsGathered(ConvolutionDescriptor d, float* col, int ld, int images, float* dx,
        long imageStride)
    {
        if (Planes256)
        {
            AddColumnsGathered256(d, col, ld, images, dx, imageStride);
            return;
        }
        int taps = d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth;
        int chunks = (d.InWidth + 15) / 16, kw = d.KernelW, sw = d.StrideW;
        nint cs = (nint)col, dxs = (nint)dx;
        CpuParallel.For(d.InChannelsPerGroup, CopyGrain((long)taps * images * pixels), (start, end) =>
        {
            // Per (run, tap column s): where the run's first lane reads in a column row, and which lanes read.
            int* offset = stackalloc int[chunks * kw];
            var masks = stackalloc Vector512<float>[chunks * kw];
            var spread = stackalloc Vector512<int>[chunks * kw];
            for (int q = 0; q < chunks; q++)
            {
                for (int s = 0; s < kw; s++)
                {
                    // Padded column q * 16 + lane + PadW is read by output column ow with ow * sw = e + lane.
                    int e = q * 16 + d.PadW - s * d.DilationW, k = q * kw + s;
                    if (sw == 1)
                    {
                        offset[k] = e;
                        masks[k] = LaneMask(-e, d.OutWidth - e);
                    }
                    else
                    {
                        // Lanes of e's parity read nothing; the others read consecutive output columns from o.
                        int first = e & 1, o = (e + first) >> 1;
                        offset[k] = o;
                        masks[k] = LaneMask(-o, d.OutWidth - o);
                        spread[k] = first == 0 ? SpreadLow : SpreadLowOdd;
                    }
                }
            }
            int h = d.InHeight, w = d.InWidth;
            var tail = LaneMask(0, (w - 1) % 16 + 1);
            for (long c = start; c < end; c++)
            {
                for (int i = 0; i < images; i += ImagesAtOnce)
                {
                    // Images past the block's end repeat image i, and are not stored.
                    int count = Math.Min(ImagesAtOnce, images - i);
                    nint step1 = count > 1 ? pixels : 0, step2 = count > 2 ? 2 * pixels : 0;
                    nint step3 = count > 3 ? 3 * pixels : 0;
                    float* rows = (float*)cs + c * taps * ld + (long)i * pixels;
                    float* plane = (float*)dxs + i * imageStride + c * h * w;
                    for (int ih = 0; ih < h; ih++)
                    {
                        for (int q = 0; q < chunks; q++)
                        {
                            Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
                            for (int r = 0; r < d.KernelH; r++)
                            {
                                int num = ih + d.PadH - r * d.DilationH;
                                if (num < 0 || num % d.StrideH != 0 || num / d.StrideH >= d.OutHeight) continue;
                                float* src = rows + (long)r * kw * ld + num / d.StrideH * d.OutWidth;
                                for (int s = 0; s < kw; s++, src += ld)
                                {
                                    int k = q * kw + s;
                                    float* at = src + offset[k];
                                    var mask = masks[k];
                                    var zero = Vector512<float>.Zero;
                                    Vector512<float> v0 = Avx512F.MaskLoad(at, mask, zero);
                                    Vector512<float> v1 = Avx512F.MaskLoad(at + step1, mask, zero);
                                    Vector512<float> v2 = Avx512F.MaskLoad(at + step2, mask, zero);
                                    Vector512<float> v3 = Avx512F.MaskLoad(at + step3, mask, zero);
                                    if (sw != 1)
                                    {
                                        var lanes = spread[k];
                                        v0 = Avx512F.PermuteVar16x32x2(v0, lanes, zero);
                                        v1 = Avx512F.PermuteVar16x32x2(v1, lanes, zero);
                                        v2 = Avx512F.PermuteVar16x32x2(v2, lanes, zero);
                                        v3 = Avx512F.PermuteVar16x32x2(v3, lanes, zero);
                                    }
                                    acc0 += v0;
                                    acc1 += v1;
                                    acc2 += v2;
                                    acc3 += v3;
                                }
                            }
                            float* dst = plane + ih * w + q * 16;
                            bool whole = q * 16 + 16 <= w;
                            StoreRun(dst, acc0, whole, tail);
                            if (count > 1) StoreRun(dst + imageStride, acc1, whole, tail);
                            if (count > 2) StoreRun(dst + 2 * imageStride, acc2, whole, tail);
                            if (count > 3) StoreRun(dst + 3 * imageStride, acc3, whole, tail);
                        }
                    }
                }
            }
        });
    }

    /// <summary>Stores a run of an input row: whole, or its lanes in <paramref name="tail"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRun(float* dst, Vector512<float> run, bool whole, Vector512<float> tail)
    {
        if (whole) run.Store(dst);
        else Avx512F.MaskStore(dst, tail, run);
    }

    /// <summary>Copies an input plane into the interior of the padded plane; the border stays zero.</summary>
    private static void FillPaddedPlane(ConvolutionDescriptor d, float* plane, float* pad)
    {
        int h = d.InHeight, w = d.InWidth, wp = w + 2 * d.PadW;
        float* dst = pad + d.PadH * wp + d.PadW;
        for (int ih = 0; ih < h; ih++) CopyRun(plane + ih * w, dst + ih * wp, w);
    }

    /// <summary>Tap t's row of the im2col matrix of one image-channel, from its padded plane.</summary>
    private static void PlaneToColumnRow(ConvolutionDescriptor d, float* pad, int wp, int t, float* dst)
    {
        int oh = d.OutHeight, ow = d.OutWidth, sh = d.StrideH, sw = d.StrideW;
        int r = t / d.KernelW, s = t % d.KernelW;
        float* src = pad + r * d.DilationH * wp + s * d.DilationW;
        if (Planes256)
        {
            PlaneToColumnRow256(oh, ow, sh, sw, wp, src, dst);
            return;
        }
        var tail = LaneMask(0, (ow - 1) % 16 + 1);
        for (int y = 0; y < oh; y++, src += sh * wp, dst += ow)
        {
            int j = 0;
            if (sw == 1)
            {
                for (; j + 16 < ow; j += 16) Vector512.Load(src + j).Store(dst + j);
                Avx512F.MaskStore(dst + j, tail, Vector512.Load(src + j));
            }
            else
            {
                for (; j + 16 < ow; j += 16) EvenOf(src + 2 * j).Store(dst + j);
                Avx512F.MaskStore(dst + j, tail, EvenOf(src + 2 * j));
            }
        }
    }

    /// <summary>
    /// <see cref="PlaneToColumnRow"/> with AVX2: 8-wide copies (even lanes of two vectors for stride 2), the last
    /// run's tail stored through a lane mask; loads past a run end stay in the padded plane's slack.
    /// </summary>
    private static void PlaneToColumnRow256(int oh, int ow, int sh, int sw, int wp, float* src, float* dst)
    {
        var lanes = Vector256<int>.Indices;
        var tail = Vector256.LessThan(lanes, Vector256.Create((ow - 1) % 8 + 1)).AsSingle();
        for (int y = 0; y < oh; y++, src += sh * wp, dst += ow)
        {
            int j = 0;
            if (sw == 1)
            {
                for (; j + 8 < ow; j += 8) Vector256.Load(src + j).Store(dst + j);
                Avx.MaskStore(dst + j, tail, Vector256.Load(src + j));
            }
            else
            {
                for (; j + 8 < ow; j += 8)
                    EvenLanes256(Vector256.Load(src + 2 * j), Vector256.Load(src + 2 * j + 8)).Store(dst + j);
                var even = EvenLanes256(Vector256.Load(src + 2 * j), Vector256.Load(src + 2 * j + 8));
                Avx.MaskStore(dst + j, tail, even);
            }
        }
    }

    /// <summary>The even elements of p[0, 32).</summary>
    private static Vector512<float> EvenOf(float* p) =>
        Avx512F.PermuteVar16x32x2(Vector512.Load(p), EvenLanes, Vector512.Load(p + 16));
}
