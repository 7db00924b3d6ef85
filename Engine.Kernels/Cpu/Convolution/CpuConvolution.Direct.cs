using System.Runtime.Intrinsics;
using Engine.Memory;

namespace Engine.Kernels.Cpu;

// The direct path (float; AVX-512 or AVX2 + FMA): the passes as implicit GEMMs over the im2col matrix, which is
// never stored. Each input channel is staged once per image (DirectPlan) so that any W consecutive output pixels
// of any column row are one plain load (W = 16 with AVX-512, 8 with AVX2), used at once by a block of output
// channels held in registers (CpuConvolution.DirectKernels.cs, written once for both widths over IMaskedSimd):
// - forward:          y (K/g x P) = w (K/g x CRS/g) * col, each output one chain of FMAs in (c, r, s) order;
// - backward data:    for stride 1, the forward pass of the transposed convolution (dy with the flipped weights);
// - backward weight:  dw (K/g x CRS/g) = dy * col^T, lane-wise sums over each chunk of images, then across lanes,
//                     added chunk after chunk.
// Work is split over images or over blocks of output channels and weight rows, never inside a sum, so results do
// not depend on the thread count.
public static unsafe partial class CpuConvolution
{
    /// <summary>Weights up to this size stay in L2 while the pixel vectors of an image go by.</summary>
    private const long DirectWeightBytes = 512 * 1024;

    /// <summary>Staged input per chunk of images when the weights are the outer loop: half of a 2 MB L2.</summary>
    private const long DirectInputBytes = 1024 * 1024;

    /// <summary>
    /// Weight gradients (per group) up to this many elements go through the direct kernel by default.
    /// </summary>
    private const long DirectWeightGradientElements = 16 * 1024;

    /// <summary>Elements after the staged input that the last, partial pixel vector may read.</summary>
    private const int StageSlack = 16;

    /// <summary>
    /// Staged images are this many elements more than their channels apart, so that the pixel vectors of a
    /// block, which come from several images, do not all map to the same L1 sets.
    /// </summary>
    private const int ImageSkew = 16;

    /// <summary>
    /// Tests set this to run the direct kernels in their Vector256 (AVX2) form on an AVX-512 machine too.
    /// </summary>
    internal static bool DirectWithVector256 { get; set; }

    /// <summary>Floats per pixel vector of the direct kernels: 16 (AVX-512), 8 (AVX2 + FMA), or 0 (none).</summary>
    private static int DirectWidth =>
        Masked512.IsSupported && !DirectWithVector256 ? 16 : Masked256.IsSupported ? 8 : 0;

    /// <summary>Forward through the direct kernel, or false when this layer has no direct plan.</summary>
    private static bool TryForwardDirect<T>(ConvolutionDescriptor d, T* x, T* w, T* bias, T* y)
        where T : unmanaged
    {
        var plan = typeof(T) == typeof(float) ? DirectPlan.Create(d, DirectWidth) : null;
        if (plan == null) return false;
        ForwardDirect(d, plan, (float*)x, (float*)w, (float*)bias, (float*)y);
        return true;
    }

    /// <summary>
    /// Backward data of a stride-1 layer as the forward pass of its transpose: dx = conv(dy, w') with
    /// w'[g, c, k, r, s] = w[g, k, c, R - 1 - r, S - 1 - s] and padding (R - 1) * dilation - pad, which puts every
    /// output pixel that read an input over it. False when the layer is strided or has no direct plan.
    /// </summary>
    private static bool TryBackwardDataDirect<T>(ConvolutionDescriptor d, T* dy, T* w, T* dx)
        where T : unmanaged
    {
        if (typeof(T) != typeof(float) || d.StrideH != 1 || d.StrideW != 1) return false;
        int padH = (d.KernelH - 1) * d.DilationH - d.PadH, padW = (d.KernelW - 1) * d.DilationW - d.PadW;
        if (padH < 0 || padW < 0 || d.InputSize == 0) return false;
        var t = new ConvolutionDescriptor(d.Batch, d.OutChannels, d.OutHeight, d.OutWidth, d.InChannels, d.KernelH,
            d.KernelW, 1, 1, padH, padW, d.DilationH, d.DilationW, d.Groups);
        var plan = DirectPlan.Create(t, DirectWidth);
        if (plan == null) return false;
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup, taps = d.KernelH * d.KernelW;
        using var flipped = Rent<float>(d.WeightSize);
        nint wfs = flipped.Pointer, srcs = (nint)w;
        // Row (g, c) of w' gathers kg runs of taps values, cg * taps apart in w: written in order, read strided.
        // ResNet's 512-channel layer flips 2.4 M values (9 MB), which is worth both threads.
        CpuParallel.For((long)groups * cg, Math.Max(1, (1 << 16) / Math.Max(1, (long)kg * taps)), (first, last) =>
        {
            for (long row = first; row < last; row++)
            {
                long g = row / cg, c = row % cg;
                float* to = (float*)wfs + row * kg * taps;
                float* from = (float*)srcs + (g * kg * cg + c) * taps;
                ReverseRuns(to, from, kg, (long)cg * taps, taps);
            }
        });
        float* wf = (float*)flipped.Pointer;
        ForwardDirect(t, plan, (float*)dy, wf, null, (float*)dx);
        return true;
    }

    /// <summary>
    /// Copies <paramref name="runs"/> runs of <paramref name="taps"/> values, reversed, from runs
    /// <paramref name="stride"/> apart to consecutive runs. A method of its own rather than a loop inside the
    /// parallel lambda, as in the elementwise driver: the 512-channel flip took 3.7 ms there and takes 2.6 here, on
    /// one thread.
    /// </summary>
    private static void ReverseRuns(float* to, float* from, int runs, long stride, int taps)
    {
        for (int k = 0; k < runs; k++, to += taps, from += stride)
        {
            float* last = from + taps - 1;
            for (int i = 0; i < taps; i++) to[i] = last[-i];
        }
    }

    /// <summary>
    /// Interleaves the weights (rows of <paramref name="depth"/> values, groups of <paramref name="kg"/> rows) in
    /// blocks of <paramref name="tk"/> rows: dst holds, block after block, the block's tk values of column row 0,
    /// then of row 1, and so on, the last row standing in for the rows a group's last block lacks. The forward
    /// kernel then reads a step's weights from one pointer at fixed offsets: with separate row pointers AVX2's 16
    /// general registers ran out and the kernel reloaded three of them from the stack at every step.
    /// </summary>
    private static void PackWeightBlocks(float* w, int rows, int kg, int depth, int tk, float* dst)
    {
        int blocks = CeilDiv(kg, tk), groups = rows / Math.Max(1, kg);
        nint ws = (nint)w, ds = (nint)dst;
        CpuParallel.For((long)groups * blocks, Math.Max(1, (1 << 16) / Math.Max(1, (long)tk * depth)), (first, last) =>
        {
            for (long item = first; item < last; item++)
            {
                long g = item / blocks;
                int k0 = (int)(item % blocks) * tk;
                float* to = (float*)ds + item * tk * depth;
                for (int k = 0; k < tk; k++)
                {
                    float* from = (float*)ws + (g * kg + Math.Min(k0 + k, kg - 1)) * depth;
                    for (int i = 0; i < depth; i++) to[(long)i * tk + k] = from[i];
                }
            }
        });
    }

    /// <summary>Backward weight through the direct kernel, or false when this layer has no direct plan.</summary>
    private static bool TryBackwardWeightDirect<T>(ConvolutionDescriptor d, T* x, T* dy, T* dw)
        where T : unmanaged
    {
        var plan = typeof(T) == typeof(float) ? DirectPlan.Create(d, DirectWidth) : null;
        if (plan == null) return false;
        BackwardWeightDirect(d, plan, (float*)x, (float*)dy, (float*)dw);
        return true;
    }

    private static void ForwardDirect(ConvolutionDescriptor d, DirectPlan plan, float* x, float* w, float* bias,
        float* y)
    {
        if (d.OutputSize == 0) return;
        if (plan.Width == 16) ForwardDirect<Vector512<float>, Masked512>(d, plan, x, w, bias, y);
        else ForwardDirect<Vector256<float>, Masked256>(d, plan, x, w, bias, y);
    }

    private static void ForwardDirect<TV, TS>(ConvolutionDescriptor d, DirectPlan plan, float* x, float* w,
        float* bias, float* y)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        var s = DirectSchedule.Create(d, plan, TS.Registers);
        switch (s.Channels)
        {
            case 1: ForwardDirect<TV, TS, Count1>(s, d, plan, x, w, bias, y); break;
            case 2: ForwardDirect<TV, TS, Count2>(s, d, plan, x, w, bias, y); break;
            case 4: ForwardDirect<TV, TS, Count4>(s, d, plan, x, w, bias, y); break;
            case 5: ForwardDirect<TV, TS, Count5>(s, d, plan, x, w, bias, y); break;
            case 6: ForwardDirect<TV, TS, Count6>(s, d, plan, x, w, bias, y); break;
            default: ForwardDirect<TV, TS, Count8>(s, d, plan, x, w, bias, y); break;
        }
    }

    private static void ForwardDirect<TV, TS, TK>(DirectSchedule s, ConvolutionDescriptor d, DirectPlan plan,
        float* x, float* w, float* bias, float* y)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
    {
        switch (s.Vectors)
        {
            case 1: ForwardDirect<TV, TS, TK, Count1>(s, d, plan, x, w, bias, y); break;
            case 2: ForwardDirect<TV, TS, TK, Count2>(s, d, plan, x, w, bias, y); break;
            case 3: ForwardDirect<TV, TS, TK, Count3>(s, d, plan, x, w, bias, y); break;
            default: ForwardDirect<TV, TS, TK, Count4>(s, d, plan, x, w, bias, y); break;
        }
    }

    /// <summary>
    /// Forward over chunks of images. Weights that fit in L2 stay there while the pixel vectors of an image go by
    /// (each vector's input rows staying in L1 for all the channel blocks): threads take whole images, staging
    /// their own. Larger weights are the outer loop over a chunk of images staged together, so that they are read
    /// once per chunk: the chunk is staged by all threads, then threads take blocks of output channels.
    /// </summary>
    private static void ForwardDirect<TV, TS, TK, TN>(DirectSchedule s, ConvolutionDescriptor d, DirectPlan plan,
        float* x, float* w, float* bias, float* y)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
        where TN : struct, IConstant
    {
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        int tk = TK.Value, tv = TN.Value, blocks = CeilDiv(kg, tk);
        long inImage = (long)d.InChannels * hw, outImage = (long)d.OutChannels * pixels;
        int[] offsets = plan.Offsets(cg);
        using var packed = Rent<float>((long)groups * blocks * tk * depth);
        PackWeightBlocks(w, groups * kg, kg, depth, tk, (float*)packed.Pointer);
        // Block b of group g: its TK weights of column row i at packed + ((g * blocks + b) * depth + i) * TK.
        w = (float*)packed.Pointer;
        long blockStride = (long)tk * depth;
        if (!s.WeightsOuter)
        {
            nint xs = (nint)x, ws = (nint)w, bs = (nint)bias, ys = (nint)y;
            CpuParallel.For((long)d.Batch * groups, 1, (first, last) =>
            {
                using var chunk = new StagedChunk(d, plan, 1);
                fixed (int* offset = offsets)
                {
                    for (long item = first; item < last; item++)
                    {
                        int g = (int)(item % groups), n = (int)(item / groups);
                        chunk.Stage<TV, TS>((float*)xs + n * inImage + (long)g * cg * hw, inImage, 1,
                            parallel: false);
                        float* yg = (float*)ys + n * outImage + (long)g * kg * pixels;
                        float* wg = (float*)ws + g * blocks * blockStride;
                        float* bg = bs == 0 ? null : (float*)bs + g * kg;
                        for (int v0 = 0; v0 < chunk.Vectors; v0 += tv)
                        {
                            for (int k0 = 0; k0 < kg; k0 += tk)
                                DirectKernel<TV, TS, TK, TN>(chunk.Input, offset, chunk.Start + v0, chunk.Output + v0,
                                    chunk.Left + v0, Math.Min(tv, chunk.Vectors - v0), wg + k0 * (long)depth, depth,
                                    Math.Min(tk, kg - k0), bg == null ? null : bg + k0, yg + (long)k0 * pixels,
                                    pixels);
                        }
                    }
                }
            });
            return;
        }
        using (var chunk = new StagedChunk(d, plan, s.Images))
        {
            nint ws = (nint)w, bs = (nint)bias;
            for (int n0 = 0; n0 < d.Batch; n0 += s.Images)
            {
                int nb = Math.Min(s.Images, d.Batch - n0);
                for (int g = 0; g < groups; g++)
                {
                    chunk.Stage<TV, TS>(x + n0 * inImage + (long)g * cg * hw, inImage, nb, parallel: true);
                    nint ys = (nint)(y + n0 * outImage + (long)g * kg * pixels);
                    float* wg = (float*)ws + g * blocks * blockStride;
                    float* bg = bs == 0 ? null : (float*)bs + g * kg;
                    nint wgs = (nint)wg, bgs = (nint)bg;
                    var c = chunk;
                    CpuParallel.For(blocks, 1, (first, last) =>
                    {
                        fixed (int* offset = offsets)
                        {
                            for (long b = first; b < last; b++)
                            {
                                int k0 = (int)b * tk;
                                for (int v0 = 0; v0 < c.Vectors; v0 += tv)
                                    DirectKernel<TV, TS, TK, TN>(c.Input, offset, c.Start + v0, c.Output + v0,
                                        c.Left + v0, Math.Min(tv, c.Vectors - v0), (float*)wgs + b * blockStride,
                                        depth, Math.Min(tk, kg - k0), bgs == 0 ? null : (float*)bgs + k0,
                                        (float*)ys + (long)k0 * pixels, pixels);
                            }
                        }
                    });
                }
            }
        }
    }

    private static void BackwardWeightDirect(ConvolutionDescriptor d, DirectPlan plan, float* x, float* dy,
        float* dw)
    {
        if (d.WeightSize == 0) return;
        if (plan.Width == 16) BackwardWeightDirect<Vector512<float>, Masked512>(d, plan, x, dy, dw);
        else BackwardWeightDirect<Vector256<float>, Masked256>(d, plan, x, dy, dw);
    }

    private static void BackwardWeightDirect<TV, TS>(ConvolutionDescriptor d, DirectPlan plan, float* x, float* dy,
        float* dw)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        var (tk, ti) = DirectWeightBlock(d.OutChannelsPerGroup, d.InChannelsPerGroup * d.KernelH * d.KernelW,
            TS.Registers);
        switch (tk)
        {
            case 1: BackwardWeightDirect<TV, TS, Count1>(ti, d, plan, x, dy, dw); break;
            case 2: BackwardWeightDirect<TV, TS, Count2>(ti, d, plan, x, dy, dw); break;
            case 4: BackwardWeightDirect<TV, TS, Count4>(ti, d, plan, x, dy, dw); break;
            case 5: BackwardWeightDirect<TV, TS, Count5>(ti, d, plan, x, dy, dw); break;
            default: BackwardWeightDirect<TV, TS, Count6>(ti, d, plan, x, dy, dw); break;
        }
    }

    /// <summary>
    /// The weight-gradient register block (output channels TK, column rows TI) that covers kg x depth in the
    /// fewest estimated cycles: a step issues TK * TI FMAs (two a cycle) among TK * TI + TK + TI + 6 instructions
    /// (four a cycle), and TK * TI + TK + 1 registers must fit in 32 (AVX-512); with 16 (AVX2), where the lane
    /// mask takes a register of its own, TK * TI + TK + 2.
    /// </summary>
    private static (int Channels, int Rows) DirectWeightBlock(int kg, int depth, int registers)
    {
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        foreach (int tk in (ReadOnlySpan<int>)[6, 5, 4, 2, 1])
        {
            foreach (int ti in (ReadOnlySpan<int>)[6, 5, 4, 2, 1])
            {
                int used = tk * ti + tk + (registers > 16 ? 1 : 2);
                if (used > (registers > 16 ? 31 : 16)) continue;
                double step = Math.Max(tk * ti / 2.0, (tk * ti + tk + ti + 6) / 4.0);
                double cost = (double)CeilDiv(kg, tk) * CeilDiv(depth, ti) * step;
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = (tk, ti);
                }
            }
        }
        return best;
    }

    private static void BackwardWeightDirect<TV, TS, TK>(int ti, ConvolutionDescriptor d, DirectPlan plan, float* x,
        float* dy, float* dw)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
    {
        switch (ti)
        {
            case 1: BackwardWeightDirect<TV, TS, TK, Count1>(d, plan, x, dy, dw); break;
            case 2: BackwardWeightDirect<TV, TS, TK, Count2>(d, plan, x, dy, dw); break;
            case 4: BackwardWeightDirect<TV, TS, TK, Count4>(d, plan, x, dy, dw); break;
            case 5: BackwardWeightDirect<TV, TS, TK, Count5>(d, plan, x, dy, dw); break;
            default: BackwardWeightDirect<TV, TS, TK, Count6>(d, plan, x, dy, dw); break;
        }
    }

    private static void BackwardWeightDirect<TV, TS, TK, TI>(ConvolutionDescriptor d, DirectPlan plan, float* x,
        float* dy, float* dw)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
        where TI : struct, IConstant
    {
        // Planes of whole vectors need no masks (every LeNet and ResNet-18 layer with AVX2).
        if (d.OutHeight * d.OutWidth % TS.Width == 0) BackwardWeightDirect<TV, TS, TK, TI, No>(d, plan, x, dy, dw);
        else BackwardWeightDirect<TV, TS, TK, TI, Yes>(d, plan, x, dy, dw);
    }

    /// <summary>
    /// Backward weight over chunks of images that fit DirectInputBytes, in batch order: each chunk is staged by
    /// all threads, then threads take blocks of the weight gradient, each summing over every pixel vector of the
    /// chunk and adding the result (storing it for the first chunk).
    /// </summary>
    private static void BackwardWeightDirect<TV, TS, TK, TI, TM>(ConvolutionDescriptor d, DirectPlan plan,
        float* x, float* dy, float* dw)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
        where TI : struct, IConstant
        where TM : struct, IFlag
    {
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        int tk = TK.Value, ti = TI.Value;
        long inImage = (long)d.InChannels * hw, outImage = (long)d.OutChannels * pixels;
        if (d.Batch == 0)
        {
            new Span<float>(dw, (int)d.WeightSize).Clear();
            return;
        }
        int[] offsets = plan.Offsets(cg);
        long image = ((long)cg * plan.ChannelStride + ImageSkew) * sizeof(float);
        int images = (int)Math.Clamp(DirectInputBytes / image, 1, d.Batch);
        int kBlocks = CeilDiv(kg, tk), iBlocks = CeilDiv(depth, ti);
        using var chunk = new StagedChunk(d, plan, images);
        for (int n0 = 0; n0 < d.Batch; n0 += images)
        {
            int nb = Math.Min(images, d.Batch - n0);
            bool accumulate = n0 > 0;
            for (int g = 0; g < groups; g++)
            {
                chunk.Stage<TV, TS>(x + n0 * inImage + (long)g * cg * hw, inImage, nb, parallel: true);
                nint dys = (nint)(dy + n0 * outImage + (long)g * kg * pixels), dws = (nint)(dw + (long)g * kg * depth);
                var c = chunk;
                CpuParallel.For((long)kBlocks * iBlocks, 1, (first, last) =>
                {
                    fixed (int* offset = offsets)
                    {
                        for (long b = first; b < last; b++)
                        {
                            // Column rows outer: their TI rows of the chunk stay in L1 while the gradient rows
                            // of every channel block stream past from L2.
                            int i0 = (int)(b / kBlocks) * ti, k0 = (int)(b % kBlocks) * tk;
                            DirectWeightKernel<TV, TS, TK, TI, TM>(c.Input, offset + i0, c.Start, c.Output,
                                c.Left, c.Vectors, (float*)dys + (long)k0 * pixels, pixels, Math.Min(tk, kg - k0),
                                Math.Min(ti, depth - i0), (float*)dws + (long)k0 * depth + i0, depth, accumulate);
                        }
                    }
                });
            }
        }
    }

    /// <summary>
    /// How the direct kernel covers a forward pass: register blocks of Channels output channels by Vectors pixel
    /// vectors, over chunks of Images images, with the weights in the outer loop or not.
    /// </summary>
    private readonly record struct DirectSchedule(int Channels, int Vectors, int Images, bool WeightsOuter)
    {
        /// <summary>
        /// Weights that fit DirectWeightBytes go one image at a time; larger ones over chunks of images that fit
        /// DirectInputBytes. The block is the one with the fewest estimated cycles per image: a step issues
        /// TK * TV FMAs (two a cycle) among TK * TV + TK + TV + 6 instructions (four a cycle), and TK * TV + TV + 1
        /// registers must fit in 32 (AVX-512: 30, two kept spare) or 16 (AVX2: 15, as GEMM's 6 x 16 tile, since the
        /// weights are broadcast into a register there rather than read by the FMA); the chunk is trimmed to a whole
        /// number of blocks where that costs at most half of it.
        /// </summary>
        public static DirectSchedule Create(ConvolutionDescriptor d, DirectPlan plan, int registers)
        {
            int kg = d.OutChannelsPerGroup, vectors = plan.Vectors;
            long weights = (long)kg * d.InChannelsPerGroup * d.KernelH * d.KernelW * sizeof(float);
            long image = ((long)d.InChannelsPerGroup * plan.ChannelStride + ImageSkew) * sizeof(float);
            bool weightsOuter = weights > DirectWeightBytes;
            int most = weightsOuter ? (int)Math.Clamp(DirectInputBytes / image, 1, Math.Max(1, d.Batch)) : 1;
            var best = new DirectSchedule(1, 1, 1, weightsOuter);
            double bestCost = double.MaxValue;
            foreach (int tk in (ReadOnlySpan<int>)[8, 6, 5, 4, 2, 1])
            {
                foreach (int tv in (ReadOnlySpan<int>)[4, 3, 2, 1])
                {
                    if (tk * tv + tv + 1 > (registers > 16 ? 30 : 15)) continue;
                    int images = most;
                    for (int i = most; i > most / 2; i--)
                    {
                        if (i * vectors % tv == 0)
                        {
                            images = i;
                            break;
                        }
                    }
                    double step = Math.Max(tk * tv / 2.0, (tk * tv + tk + tv + 6) / 4.0);
                    double cost = (double)CeilDiv(kg, tk) * CeilDiv(images * vectors, tv) * step / images;
                    if (cost < bestCost)
                    {
                        bestCost = cost;
                        best = new DirectSchedule(tk, tv, images, weightsOuter);
                    }
                }
            }
            return best;
        }
    }

    /// <summary>
    /// A staging buffer for up to a fixed number of images (one group's channels each), and the table of their
    /// pixel vectors: vector i * V + v of the chunk starts at Start[] in Input, its outputs sit at Output[] from
    /// the chunk's first image's plane, and Left[] of its lanes are in the plane.
    /// </summary>
    private sealed class StagedChunk : IDisposable
    {
        private readonly ConvolutionDescriptor d;
        private readonly DirectPlan plan;
        private readonly long imageStride;
        private readonly CpuBuffer input, table;

        public StagedChunk(ConvolutionDescriptor d, DirectPlan plan, int images)
        {
            this.d = d;
            this.plan = plan;
            imageStride = (long)d.InChannelsPerGroup * plan.ChannelStride + ImageSkew;
            long size = images * imageStride + StageSlack;
            input = CpuMemoryPool.Shared.Rent(size * sizeof(float));
            table = CpuMemoryPool.Shared.Rent(3L * images * plan.Vectors * sizeof(int));
            Input = (float*)input.Pointer;
            Start = (int*)table.Pointer;
            Output = Start + images * plan.Vectors;
            Left = Output + images * plan.Vectors;
            // The padded layout stages only the interior of each plane: its border, and the slack, stay zero.
            new Span<float>(Input, (int)size).Clear();
        }

        public float* Input { get; }

        public int* Start { get; }

        public int* Output { get; }

        public int* Left { get; }

        /// <summary>Pixel vectors of the images staged last.</summary>
        public int Vectors { get; private set; }

        /// <summary>
        /// Stages images [0, count) whose group's first channel is at x + i * inImage, and fills the vector table
        /// (outputs relative to the first image, planes d.OutputSize / d.Batch apart).
        /// </summary>
        public void Stage<TV, TS>(float* x, long inImage, int count, bool parallel)
            where TV : unmanaged
            where TS : struct, IMaskedSimd<TV>
        {
            int cg = d.InChannelsPerGroup, hw = d.InHeight * d.InWidth, pixels = d.OutHeight * d.OutWidth;
            long outImage = (long)d.OutChannels * pixels;
            nint xs = (nint)x;
            long items = (long)count * cg;
            CpuParallel.For(items, parallel ? Math.Max(1, items / CpuParallel.MaxThreads) : items, (first, last) =>
            {
                for (long item = first; item < last; item++)
                {
                    long i = item / cg, c = item % cg;
                    plan.Stage<TV, TS>(d, (float*)xs + i * inImage + c * hw,
                        Input + i * imageStride + c * plan.ChannelStride);
                }
            });
            int vectors = plan.Vectors;
            for (int i = 0; i < count; i++)
            {
                for (int v = 0; v < vectors; v++)
                {
                    Start[i * vectors + v] = (int)(i * imageStride) + plan.VectorStart[v];
                    Output[i * vectors + v] = (int)(i * outImage) + plan.Width * v;
                    Left[i * vectors + v] = pixels - plan.Width * v;
                }
            }
            Vectors = count * vectors;
        }

        public void Dispose()
        {
            input.Dispose();
            table.Dispose();
        }
    }
}
