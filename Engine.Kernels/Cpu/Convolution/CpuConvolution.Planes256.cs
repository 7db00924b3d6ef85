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
    /// so the same bits.
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
                for (int i = 0; i < images; i++)
                {
                    float* rows = (float*)cs + c * taps * ld + (long)i * pixels;
                    float* plane = (float*)dxs + i * imageStride + c * h * w;
                    for (int ih = 0; ih < h; ih++)
                    {
                        for (int q = 0; q < chunks; q++)
                        {
                            var acc = Vector256<float>.Zero;
                            for (int r = 0; r < d.KernelH; r++)
                            {
                                int num = ih + d.PadH - r * d.DilationH;
                                if (num < 0 || num % d.StrideH != 0 || num / d.StrideH >= d.OutHeight) continue;
                                float* src = rows + (long)r * kw * ld + num / d.StrideH * d.OutWidth;
                                for (int s = 0; s < kw; s++, src += ld)
                                {
                                    int k = q * kw + s;
                                    var v = Avx.MaskLoad(src + offset[k], masks[k]);
                                    acc += sw == 1 ? v : Avx2.PermuteVar8x32(v, spread) & parity[k];
                                }
                            }
                            float* dst = plane + ih * w + q * 8;
                            if (q * 8 + 8 <= w) acc.Store(dst);
                            else Avx.MaskStore(dst, tail, acc);
                        }
                    }
                }
            }
        });
    }

    /// <summary>A float mask of the lanes in [lo, hi) of eight; empty when hi &lt;= lo.</summary>
    private static Vector256<float> LaneMask256(int lo, int hi) => Masked256.Mask(lo, hi);
}
