using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

// The Vector256 (AVX2) form of the padded-plane col2im of CpuConvolution.Planes.cs: 8-wide runs of input rows.
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// <see cref="AddColumnsGathered"/> with AVX2: each 8-wide run of an input row sums, in tap order, the column
    /// elements read from it (AVX masked loads; for stride 2, four values spread onto every other lane by a
    /// permute and a lane mask), then is stored once. The same additions in the same order as the AVX-512 form,
    /// so the same bits. Four images at a time, so four chains of additions are in flight (see
    /// <see cref="ImagesAtOnce"/>).
    /// </summary>
    private static void AddColumnsGathered256(ConvolutionDescriptor d, float* col, int ld, int images, float* dx,
        long imageStride)
    {
        int taps = d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth;
        int chunks = (d.InWidth + 7) / 8, kw = d.KernelW, sw = d.StrideW;
        nint cs = (nint)col, dxs = (nint)dx;
        CpuParallel.For(d.InChannelsPerGroup, CopyGrain((long)taps * images * pixels), (start, end) =>
        {
            // Per (run, tap column s): where the run's first lane reads in a column row, which values it loads and
            // (stride 2) which lanes receive them.
            int* offset = stackalloc int[chunks * kw];
            var masks = stackalloc Vector256<float>[chunks * kw];
            var parity = stackalloc Vector256<float>[chunks * kw];
            var lanes = Vector256<int>.Indices;
            for (int q = 0; q < chunks; q++)
            {
                for (int s = 0; s < kw; s++)
                {
                    // Padded column q * 8 + lane + PadW is read by output column ow with ow * sw = e + lane.
                    int e = q * 8 + d.PadW - s * d.DilationW, k = q * kw + s;
                    int first = sw == 1 ? 0 : e & 1, o = sw == 1 ? e : (e + first) >> 1;
                    offset[k] = o;
                    masks[k] = LaneMask256(-o, d.OutWidth - o);
                    parity[k] = Vector256.Equals(lanes & Vector256.Create(1), Vector256.Create(first)).AsSingle();
                }
            }
            var spread = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
            int h = d.InHeight, w = d.InWidth;
            var tail = LaneMask256(0, (w - 1) % 8 + 1);
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
                            Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
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
                                    Vector256<float> v0 = Avx.MaskLoad(at, mask), v1 = Avx.MaskLoad(at + step1, mask);
                                    Vector256<float> v2 = Avx.MaskLoad(at + step2, mask);
                                    Vector256<float> v3 = Avx.MaskLoad(at + step3, mask);
                                    if (sw != 1)
                                    {
                                        var odd = parity[k];
                                        v0 = Avx2.PermuteVar8x32(v0, spread) & odd;
                                        v1 = Avx2.PermuteVar8x32(v1, spread) & odd;
                                        v2 = Avx2.PermuteVar8x32(v2, spread) & odd;
                                        v3 = Avx2.PermuteVar8x32(v3, spread) & odd;
                                    }
                                    acc0 += v0;
                                    acc1 += v1;
                                    acc2 += v2;
                                    acc3 += v3;
                                }
                            }
                            float* dst = plane + ih * w + q * 8;
                            bool whole = q * 8 + 8 <= w;
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
    private static void StoreRun(float* dst, Vector256<float> run, bool whole, Vector256<float> tail)
    {
        if (whole) run.Store(dst);
        else Avx.MaskStore(dst, tail, run);
    }

    /// <summary>A float mask of the lanes in [lo, hi) of eight; empty when hi &lt;= lo.</summary>
    private static Vector256<float> LaneMask256(int lo, int hi) => Masked256.Mask(lo, hi);
}
