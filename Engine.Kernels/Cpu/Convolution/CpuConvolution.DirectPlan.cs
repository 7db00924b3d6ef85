using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

// The staging plan of the direct path (CpuConvolution.Direct.cs).
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// Widest output row the per-column layout stages (its masks take 3 KB per 256 columns of stack).
    /// </summary>
    private const int MaxStagedWidth = 2048;

    /// <summary>
    /// How each input channel is staged so that column row (c, r, s) restricted to output pixels [16 v, 16 v + 16)
    /// is the 16 consecutive elements at c * ChannelStride + TapOffset[r * S + s] + VectorStart[v]:
    /// <list type="bullet">
    /// <item>the zero-padded plane (Hp x Wp) when output rows are whole vectors (stride 1, OW a multiple of 16);</item>
    /// <item>otherwise one plane per kernel column s and row phase (r * dh mod sh) with OW columns: element (j, ow)
    /// of plane (s, phase) is the padded input at row j * sh + phase, column ow * sw + s * dw. Output pixel
    /// p = oh * OW + ow of tap (r, s) then sits at row oh + r * dh / sh, i.e. at p plus a constant.</item>
    /// </list>
    /// </summary>
    private sealed class DirectPlan
    {
        private DirectPlan(int channelStride, int[] tapOffset, int[] vectorStart, int[] phases, int rows)
        {
            ChannelStride = channelStride;
            TapOffset = tapOffset;
            VectorStart = vectorStart;
            Phases = phases;
            Rows = rows;
        }

        public int ChannelStride { get; }

        public int[] TapOffset { get; }

        public int[] VectorStart { get; }

        public int Vectors => VectorStart.Length;

        /// <summary>
        /// Where column row i = c * taps + t starts, c * ChannelStride + TapOffset[t], for cg channels.
        /// </summary>
        public int[] Offsets(int cg)
        {
            var offsets = new int[cg * TapOffset.Length];
            for (int i = 0; i < offsets.Length; i++)
                offsets[i] = i / TapOffset.Length * ChannelStride + TapOffset[i % TapOffset.Length];
            return offsets;
        }

        /// <summary>The row phases staged (empty for the padded plane).</summary>
        private int[] Phases { get; }

        /// <summary>Rows of each (s, phase) plane.</summary>
        private int Rows { get; }

        private bool Padded => Phases.Length == 0;

        public static DirectPlan? Create(ConvolutionDescriptor d)
        {
            if (!Avx512F.IsSupported || d.StrideW > 2) return null;
            int pixels = d.OutHeight * d.OutWidth, vectors = (pixels + 15) / 16;
            int taps = d.KernelH * d.KernelW, ow = d.OutWidth;
            var tapOffset = new int[taps];
            var vectorStart = new int[vectors];
            if (d.StrideW == 1 && ow % 16 == 0)
            {
                int wp = d.InWidth + 2 * d.PadW;
                for (int t = 0; t < taps; t++)
                    tapOffset[t] = t / d.KernelW * d.DilationH * wp + t % d.KernelW * d.DilationW;
                for (int v = 0; v < vectors; v++) vectorStart[v] = 16 * v / ow * d.StrideH * wp + 16 * v % ow;
                return new DirectPlan((d.InHeight + 2 * d.PadH) * wp, tapOffset, vectorStart, [], 0);
            }
            // The staging keeps masks for each 16-column chunk of an output row on the stack.
            if (ow > MaxStagedWidth) return null;
            var phases = new List<int>();
            for (int r = 0; r < d.KernelH; r++)
            {
                if (!phases.Contains(r * d.DilationH % d.StrideH)) phases.Add(r * d.DilationH % d.StrideH);
            }
            int rows = d.OutHeight + (d.KernelH - 1) * d.DilationH / d.StrideH;
            for (int t = 0; t < taps; t++)
            {
                int r = t / d.KernelW, s = t % d.KernelW;
                int plane = s * phases.Count + phases.IndexOf(r * d.DilationH % d.StrideH);
                tapOffset[t] = (plane * rows + r * d.DilationH / d.StrideH) * ow;
            }
            for (int v = 0; v < vectors; v++) vectorStart[v] = 16 * v;
            return new DirectPlan(d.KernelW * phases.Count * rows * ow, tapOffset, vectorStart, [.. phases], rows);
        }

        /// <summary>
        /// Stages one input channel plane into dst (ChannelStride elements). The padded layout writes only the
        /// interior, so dst must start zeroed and keep its border from one call to the next.
        /// </summary>
        public void Stage(ConvolutionDescriptor d, float* plane, float* dst)
        {
            if (Padded)
            {
                FillPaddedPlane(d, plane, dst);
                return;
            }
            int ow = d.OutWidth, h = d.InHeight, w = d.InWidth, sw = d.StrideW, chunks = (ow + 15) / 16;
            // Per 16-column chunk of a row: which lanes to store, and which input lanes to load (for stride 2,
            // from two vectors whose even lanes are kept). Staging is per image, so per-row overhead shows on
            // small planes: each chunk is one or two masked loads and a masked store.
            var masks = stackalloc Vector512<float>[3 * chunks];
            for (int s = 0; s < d.KernelW; s++)
            {
                int offW = s * d.DilationW - d.PadW;
                var (lo, hi) = ValidColumns(offW, sw, w, ow);
                for (int q = 0; q < chunks; q++)
                {
                    int a = lo - 16 * q, b = hi - 16 * q;
                    masks[3 * q] = LaneMask(0, ow - 16 * q);
                    masks[3 * q + 1] = sw == 1 ? LaneMask(a, b) : LaneMask(2 * a, 2 * b - 1);
                    masks[3 * q + 2] = LaneMask(2 * a - 16, 2 * b - 17);
                }
                for (int pi = 0; pi < Phases.Length; pi++)
                {
                    float* dstPlane = dst + (long)(s * Phases.Length + pi) * Rows * ow;
                    for (int j = 0; j < Rows; j++)
                    {
                        int ih = j * d.StrideH + Phases[pi] - d.PadH;
                        float* row = dstPlane + j * ow;
                        if ((uint)ih >= (uint)h)
                        {
                            for (int q = 0; q < chunks; q++)
                                Avx512F.MaskStore(row + 16 * q, masks[3 * q], Vector512<float>.Zero);
                            continue;
                        }
                        float* src = plane + (long)ih * w + offW;
                        for (int q = 0; q < chunks; q++)
                        {
                            Vector512<float> v;
                            if (sw == 1)
                            {
                                v = Avx512F.MaskLoad(src + 16 * q, masks[3 * q + 1], Vector512<float>.Zero);
                            }
                            else
                            {
                                float* s2 = src + 32 * q;
                                v = Avx512F.PermuteVar16x32x2(
                                    Avx512F.MaskLoad(s2, masks[3 * q + 1], Vector512<float>.Zero), EvenLanes,
                                    Avx512F.MaskLoad(s2 + 16, masks[3 * q + 2], Vector512<float>.Zero));
                            }
                            Avx512F.MaskStore(row + 16 * q, masks[3 * q], v);
                        }
                    }
                }
            }
        }
    }
}
