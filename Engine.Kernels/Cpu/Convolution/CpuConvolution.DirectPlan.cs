namespace Engine.Kernels.Cpu;

// The staging plan of the direct path (CpuConvolution.Direct.cs).
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// Widest output row the per-column layout stages (its masks take 3 KB per 256 columns of stack).
    /// </summary>
    private const int MaxStagedWidth = 2048;

    /// <summary>
    /// How each input channel is staged so that column row (c, r, s) restricted to output pixels [W v, W v + W)
    /// is the W consecutive elements at c * ChannelStride + TapOffset[r * S + s] + VectorStart[v], W being the
    /// vector width (16 floats with AVX-512, 8 with AVX2):
    /// <list type="bullet">
    /// <item>the zero-padded plane (Hp x Wp) when output rows are whole vectors (stride 1, OW a multiple of W);</item>
    /// <item>otherwise one plane per kernel column s and row phase (r * dh mod sh) with OW columns: element (j, ow)
    /// of plane (s, phase) is the padded input at row j * sh + phase, column ow * sw + s * dw. Output pixel
    /// p = oh * OW + ow of tap (r, s) then sits at row oh + r * dh / sh, i.e. at p plus a constant.</item>
    /// </list>
    /// </summary>
    private sealed class DirectPlan
    {
        private DirectPlan(int width, int channelStride, int[] tapOffset, int[] vectorStart, int[] phases, int rows)
        {
            Width = width;
            ChannelStride = channelStride;
            TapOffset = tapOffset;
            VectorStart = vectorStart;
            Phases = phases;
            Rows = rows;
        }

        /// <summary>Floats per pixel vector.</summary>
        public int Width { get; }

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

        /// <summary>The plan for pixel vectors of <paramref name="width"/> floats; null for stride over 2.</summary>
        public static DirectPlan? Create(ConvolutionDescriptor d, int width)
        {
            if (width == 0 || d.StrideW > 2) return null;
            int pixels = d.OutHeight * d.OutWidth, vectors = (pixels + width - 1) / width;
            int taps = d.KernelH * d.KernelW, ow = d.OutWidth;
            var tapOffset = new int[taps];
            var vectorStart = new int[vectors];
            if (d.StrideW == 1 && ow % width == 0)
            {
                int wp = d.InWidth + 2 * d.PadW;
                for (int t = 0; t < taps; t++)
                    tapOffset[t] = t / d.KernelW * d.DilationH * wp + t % d.KernelW * d.DilationW;
                for (int v = 0; v < vectors; v++)
                    vectorStart[v] = width * v / ow * d.StrideH * wp + width * v % ow;
                return new DirectPlan(width, (d.InHeight + 2 * d.PadH) * wp, tapOffset, vectorStart, [], 0);
            }
            // The staging keeps masks for each vector-wide chunk of an output row on the stack.
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
            for (int v = 0; v < vectors; v++) vectorStart[v] = width * v;
            return new DirectPlan(width, d.KernelW * phases.Count * rows * ow, tapOffset, vectorStart, [.. phases],
                rows);
        }

        /// <summary>
        /// Stages one input channel plane into dst (ChannelStride elements). The padded layout writes only the
        /// interior, so dst must start zeroed and keep its border from one call to the next.
        /// </summary>
        public void Stage<TV, TS>(ConvolutionDescriptor d, float* plane, float* dst)
            where TV : unmanaged
            where TS : struct, IMaskedSimd<TV>
        {
            if (Padded)
            {
                FillPaddedPlane(d, plane, dst);
                return;
            }
            int width = TS.Width, ow = d.OutWidth, h = d.InHeight, w = d.InWidth, sw = d.StrideW;
            int chunks = (ow + width - 1) / width;
            // Per vector-wide chunk of a row: which lanes to store, and which input lanes to load (for stride 2,
            // from two vectors whose even lanes are kept). Staging is per image, so per-row overhead shows on
            // small planes: each chunk is one or two masked loads and a masked store.
            var masks = stackalloc TV[3 * chunks];
            for (int s = 0; s < d.KernelW; s++)
            {
                int offW = s * d.DilationW - d.PadW;
                var (lo, hi) = ValidColumns(offW, sw, w, ow);
                for (int q = 0; q < chunks; q++)
                {
                    int a = lo - width * q, b = hi - width * q;
                    masks[3 * q] = TS.Mask(0, ow - width * q);
                    masks[3 * q + 1] = sw == 1 ? TS.Mask(a, b) : TS.Mask(2 * a, 2 * b - 1);
                    masks[3 * q + 2] = TS.Mask(2 * a - width, 2 * b - 1 - width);
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
                            for (int q = 0; q < chunks; q++) TS.MaskStore(row + width * q, masks[3 * q], default);
                            continue;
                        }
                        float* src = plane + (long)ih * w + offW;
                        for (int q = 0; q < chunks; q++)
                        {
                            TV v;
                            if (sw == 1)
                            {
                                v = TS.MaskLoad(src + width * q, masks[3 * q + 1]);
                            }
                            else
                            {
                                float* s2 = src + 2 * width * q;
                                v = TS.Even(TS.MaskLoad(s2, masks[3 * q + 1]),
                                    TS.MaskLoad(s2 + width, masks[3 * q + 2]));
                            }
                            TS.MaskStore(row + width * q, masks[3 * q], v);
                        }
                    }
                }
            }
        }
    }
}
