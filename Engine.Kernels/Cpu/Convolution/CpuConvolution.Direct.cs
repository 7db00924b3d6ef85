using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Engine.Memory;

namespace Engine.Kernels.Cpu;

// The direct path (float, AVX-512): forward as an implicit GEMM, y (K/g x P) = w (K/g x CRS/g) * col, where the
// im2col matrix is never stored: each 16-pixel vector of a column row is assembled in a register from a zero-padded
// copy of the input plane, with two loads and one two-register permute, and used at once by a block of output
// channels. Every pixel vector's inputs for a tap lie within 32 consecutive elements of the padded plane when the
// plan exists (see DirectPlan), which holds for stride 1 with small padding and for stride 2 with one output row
// per vector. Results: each output element is one chain of FMAs in (c, r, s) order, the same whatever the threads.
public static unsafe partial class CpuConvolution
{
    /// <summary>Weights up to this size stay in L2 while the pixel vectors of an image go by.</summary>
    private const long DirectWeightBytes = 512 * 1024;

    /// <summary>Padded input per chunk of images when the weights are the outer loop: half of a 2 MB L2.</summary>
    private const long DirectInputBytes = 1024 * 1024;

    /// <summary>
    /// Where each 16-pixel vector of the output plane reads the padded input plane: from Start[v] on, lanes picked
    /// by Lanes[v] out of the 32 elements there (for the tap at r = s = 0; other taps shift Start by a constant).
    /// </summary>
    private sealed class DirectPlan
    {
        public required int PaddedWidth { get; init; }

        public required int PaddedPlane { get; init; }

        public required int[] Start { get; init; }

        public required int[] Lanes { get; init; }

        public required int[] TapOffset { get; init; }

        /// <summary>Whether vector v reads 16 consecutive elements (lanes 0..15), so that a plain load does.</summary>
        public required bool[] Contiguous { get; init; }

        public int Vectors => Start.Length;

        /// <summary>The plan for a layer, or null when some pixel vector spans more than 32 padded elements.</summary>
        public static DirectPlan? Create(ConvolutionDescriptor d)
        {
            if (!Avx512F.IsSupported) return null;
            int wp = d.InWidth + 2 * d.PadW, hp = d.InHeight + 2 * d.PadH;
            int pixels = d.OutHeight * d.OutWidth, vectors = (pixels + 15) / 16;
            var start = new int[vectors];
            var lanes = new int[vectors * 16];
            var contiguous = new bool[vectors];
            for (int v = 0; v < vectors; v++)
            {
                int first = Offset(d, 16 * v, wp);
                start[v] = first;
                for (int j = 0; j < 16; j++)
                {
                    int p = 16 * v + j;
                    int lane = p < pixels ? Offset(d, p, wp) - first : 0;
                    if (lane > 31) return null;
                    lanes[16 * v + j] = lane;
                }
                contiguous[v] = true;
                for (int j = 0; j < 16; j++) contiguous[v] &= lanes[16 * v + j] == j || 16 * v + j >= pixels;
            }
            var taps = new int[d.KernelH * d.KernelW];
            for (int t = 0; t < taps.Length; t++)
                taps[t] = t / d.KernelW * d.DilationH * wp + t % d.KernelW * d.DilationW;
            return new DirectPlan
            {
                PaddedWidth = wp, PaddedPlane = hp * wp, Start = start, Lanes = lanes, TapOffset = taps,
                Contiguous = contiguous,
            };
        }

        private static int Offset(ConvolutionDescriptor d, int p, int wp) =>
            p / d.OutWidth * d.StrideH * wp + p % d.OutWidth * d.StrideW;
    }

    private static void ForwardDirect(ConvolutionDescriptor d, DirectPlan plan, float* x, float* w, float* bias,
        float* y)
    {
        if (d.OutputSize == 0) return;
        var (tk, tv) = DirectBlock(d.OutChannelsPerGroup, plan.Vectors);
        switch (tk)
        {
            case 1: ForwardDirect<Count1>(tv, d, plan, x, w, bias, y); break;
            case 2: ForwardDirect<Count2>(tv, d, plan, x, w, bias, y); break;
            case 4: ForwardDirect<Count4>(tv, d, plan, x, w, bias, y); break;
            case 5: ForwardDirect<Count5>(tv, d, plan, x, w, bias, y); break;
            default: ForwardDirect<Count8>(tv, d, plan, x, w, bias, y); break;
        }
    }

    /// <summary>
    /// The register block (channels, pixel vectors) that covers kg x vectors in the fewest cycles, counting a
    /// cycle per two FMAs or permutes (they share the two vector ports).
    /// </summary>
    private static (int Channels, int Vectors) DirectBlock(int kg, int vectors)
    {
        (int, int) best = (1, 1);
        long bestCost = long.MaxValue;
        foreach (int tk in (ReadOnlySpan<int>)[8, 5, 4, 2, 1])
        {
            foreach (int tv in (ReadOnlySpan<int>)[4, 3, 2, 1])
            {
                if (tk * tv + 2 * tv + 1 > 32) continue;
                long cost = (long)CeilDiv(kg, tk) * CeilDiv(vectors, tv) * (tk * tv + tv);
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = (tk, tv);
                }
            }
        }
        return best;
    }

    private static void ForwardDirect<TK>(int tv, ConvolutionDescriptor d, DirectPlan plan, float* x, float* w,
        float* bias, float* y)
        where TK : struct, IConstant
    {
        switch (tv)
        {
            case 1: ForwardDirect<TK, Count1>(d, plan, x, w, bias, y); break;
            case 2: ForwardDirect<TK, Count2>(d, plan, x, w, bias, y); break;
            case 3: ForwardDirect<TK, Count3>(d, plan, x, w, bias, y); break;
            default: ForwardDirect<TK, Count4>(d, plan, x, w, bias, y); break;
        }
    }

    private static void ForwardDirect<TK, TV>(ConvolutionDescriptor d, DirectPlan plan, float* x, float* w,
        float* bias, float* y)
        where TK : struct, IConstant
        where TV : struct, IConstant
    {
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int taps = d.KernelH * d.KernelW, depth = cg * taps, pixels = d.OutHeight * d.OutWidth;
        int hw = d.InHeight * d.InWidth, tk = TK.Value, tv = TV.Value, vectors = plan.Vectors;
        long inImage = (long)d.InChannels * hw, outImage = (long)d.OutChannels * pixels;
        long imagePlanes = (long)cg * plan.PaddedPlane;
        // Weights that fit in L2 stay there while the pixel vectors go by, each vector's input rows staying in L1
        // for all the channel blocks; larger weights are read once per chunk of images instead of once per image.
        bool weightsOuter = (long)kg * depth * sizeof(float) > DirectWeightBytes;
        int images = weightsOuter ? (int)Math.Clamp(DirectInputBytes / (imagePlanes * sizeof(float)), 1, d.Batch) : 1;
        int chunks = CeilDiv(d.Batch, images), total = images * vectors;
        long padded = images * imagePlanes + PlaneSlack;
        nint xs = (nint)x, ws = (nint)w, bs = (nint)bias, ys = (nint)y;
        CpuParallel.For((long)chunks * groups, 1, (first, last) =>
        {
            using var buffer = CpuMemoryPool.Shared.Rent(padded * sizeof(float));
            using var table = CpuMemoryPool.Shared.Rent((long)total * (64 + 4 * sizeof(int)));
            float* xp = (float*)buffer.Pointer;
            new Span<float>(xp, (int)padded).Clear();
            var lanes = (Vector512<int>*)table.Pointer;
            int* start = (int*)(lanes + total), output = start + total, left = output + total, plain = left + total;
            fixed (int* tapOffset = plan.TapOffset, planLanes = plan.Lanes)
            {
                for (long item = first; item < last; item++)
                {
                    int g = (int)(item % groups), n0 = (int)(item / groups) * images;
                    int nb = Math.Min(images, d.Batch - n0), count = nb * vectors;
                    float* xg = (float*)xs + n0 * inImage + (long)g * cg * hw;
                    for (int i = 0; i < nb; i++)
                    {
                        for (int c = 0; c < cg; c++)
                            FillPaddedPlane(d, xg + i * inImage + (long)c * hw,
                                xp + i * imagePlanes + (long)c * plan.PaddedPlane);
                        for (int v = 0; v < vectors; v++)
                        {
                            int iv = i * vectors + v;
                            lanes[iv] = Vector512.Load(planLanes + 16 * v);
                            start[iv] = (int)(i * imagePlanes) + plan.Start[v];
                            output[iv] = (int)(i * outImage) + 16 * v;
                            left[iv] = pixels - 16 * v;
                            plain[iv] = plan.Contiguous[v] ? 1 : 0;
                        }
                    }
                    float* yg = (float*)ys + n0 * outImage + (long)g * kg * pixels;
                    float* wg = (float*)ws + (long)g * kg * depth;
                    float* bg = bs == 0 ? null : (float*)bs + g * kg;
                    if (weightsOuter)
                    {
                        for (int k0 = 0; k0 < kg; k0 += tk)
                        {
                            for (int v0 = 0; v0 < count; v0 += tv)
                                DirectBlock<TK, TV>(xp, plan.PaddedPlane, cg, taps, tapOffset, lanes, start, output,
                                    left, plain, v0, Math.Min(tv, count - v0), wg, depth, k0, Math.Min(tk, kg - k0),
                                    bg, yg, pixels);
                        }
                    }
                    else
                    {
                        for (int v0 = 0; v0 < count; v0 += tv)
                        {
                            for (int k0 = 0; k0 < kg; k0 += tk)
                                DirectBlock<TK, TV>(xp, plan.PaddedPlane, cg, taps, tapOffset, lanes, start, output,
                                    left, plain, v0, Math.Min(tv, count - v0), wg, depth, k0, Math.Min(tk, kg - k0),
                                    bg, yg, pixels);
                        }
                    }
                }
            }
        });
    }

    /// <summary>One register block: output channels [k0, k0 + kCount) by vectors [v0, v0 + vCount).</summary>
    private static void DirectBlock<TK, TV>(float* xp, int plane, int cg, int taps, int* tapOffset,
        Vector512<int>* lanes, int* start, int* output, int* left, int* plain, int v0, int vCount, float* w,
        int depth, int k0, int kCount, float* bias, float* y, int ldy)
        where TK : struct, IConstant
        where TV : struct, IConstant
    {
        bool permute = false;
        for (int v = v0; v < v0 + vCount; v++) permute |= plain[v] == 0;
        float* wk = w + (long)k0 * depth, yk = y + (long)k0 * ldy, bk = bias == null ? null : bias + k0;
        if (permute)
            DirectKernel<TK, TV, Count1>(xp, plane, cg, taps, tapOffset, lanes + v0, start + v0, output + v0,
                left + v0, vCount, wk, depth, kCount, bk, yk, ldy);
        else
            DirectKernel<TK, TV, Count0>(xp, plane, cg, taps, tapOffset, lanes + v0, start + v0, output + v0,
                left + v0, vCount, wk, depth, kCount, bk, yk, ldy);
    }

    /// <summary>
    /// y[k, output[v] + j] = bias[k] + sum over (c, t) of w[k, c * taps + t] * xp[c * plane + tapOffset[t] +
    /// start[v] + lanes[v][j]] for k &lt; kCount, v &lt; vCount, j &lt; left[v]: a block of TK channels by TV pixel
    /// vectors held in registers (TK * TV accumulators, TV assembled vectors, their TV lane maps and a broadcast:
    /// at most 32 registers). Rows and vectors past the counts compute duplicates of the last valid ones and are
    /// not stored. TPermute 0 means every vector's lanes are 0..15 (a plain load assembles it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectKernel<TK, TV, TPermute>(float* xp, int plane, int cg, int taps, int* tapOffset,
        Vector512<int>* lanes, int* start, int* output, int* left, int vCount, float* w, int depth, int kCount,
        float* bias, float* y, int ldy)
        where TK : struct, IConstant
        where TV : struct, IConstant
        where TPermute : struct, IConstant
    {
        float* w0 = w + (long)Math.Min(0, kCount - 1) * depth;
        float* w1 = w + (long)Math.Min(1, kCount - 1) * depth;
        float* w2 = w + (long)Math.Min(2, kCount - 1) * depth;
        float* w3 = w + (long)Math.Min(3, kCount - 1) * depth;
        float* w4 = w + (long)Math.Min(4, kCount - 1) * depth;
        float* w5 = w + (long)Math.Min(5, kCount - 1) * depth;
        float* w6 = w + (long)Math.Min(6, kCount - 1) * depth;
        float* w7 = w + (long)Math.Min(7, kCount - 1) * depth;
        int s0 = start[Math.Min(0, vCount - 1)];
        var l0 = lanes[Math.Min(0, vCount - 1)];
        int s1 = start[Math.Min(1, vCount - 1)];
        var l1 = lanes[Math.Min(1, vCount - 1)];
        int s2 = start[Math.Min(2, vCount - 1)];
        var l2 = lanes[Math.Min(2, vCount - 1)];
        int s3 = start[Math.Min(3, vCount - 1)];
        var l3 = lanes[Math.Min(3, vCount - 1)];
        Vector512<float> a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        Vector512<float> a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73;
        a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = Vector512<float>.Zero;
        a40 = a41 = a42 = a43 = a50 = a51 = a52 = a53 = a60 = a61 = a62 = a63 = a70 = a71 = a72 = a73 = Vector512<float>.Zero;
        Vector512<float> x1 = default, x2 = default, x3 = default;
        for (int c = 0; c < cg; c++)
        {
            float* xc = xp + (long)c * plane;
            int wc = c * taps;
            for (int t = 0; t < taps; t++)
            {
                float* p = xc + tapOffset[t];
                var x0 = Assemble<TPermute>(p + s0, l0);
                if (TV.Value > 1) x1 = Assemble<TPermute>(p + s1, l1);
                if (TV.Value > 2) x2 = Assemble<TPermute>(p + s2, l2);
                if (TV.Value > 3) x3 = Assemble<TPermute>(p + s3, l3);
                int i = wc + t;
                var b0 = Vector512.Create(w0[i]);
                a00 = Avx512F.FusedMultiplyAdd(b0, x0, a00);
                if (TV.Value > 1) a01 = Avx512F.FusedMultiplyAdd(b0, x1, a01);
                if (TV.Value > 2) a02 = Avx512F.FusedMultiplyAdd(b0, x2, a02);
                if (TV.Value > 3) a03 = Avx512F.FusedMultiplyAdd(b0, x3, a03);
                if (TK.Value > 1)
                {
                    var b1 = Vector512.Create(w1[i]);
                    a10 = Avx512F.FusedMultiplyAdd(b1, x0, a10);
                    if (TV.Value > 1) a11 = Avx512F.FusedMultiplyAdd(b1, x1, a11);
                    if (TV.Value > 2) a12 = Avx512F.FusedMultiplyAdd(b1, x2, a12);
                    if (TV.Value > 3) a13 = Avx512F.FusedMultiplyAdd(b1, x3, a13);
                }
                if (TK.Value > 2)
                {
                    var b2 = Vector512.Create(w2[i]);
                    a20 = Avx512F.FusedMultiplyAdd(b2, x0, a20);
                    if (TV.Value > 1) a21 = Avx512F.FusedMultiplyAdd(b2, x1, a21);
                    if (TV.Value > 2) a22 = Avx512F.FusedMultiplyAdd(b2, x2, a22);
                    if (TV.Value > 3) a23 = Avx512F.FusedMultiplyAdd(b2, x3, a23);
                }
                if (TK.Value > 3)
                {
                    var b3 = Vector512.Create(w3[i]);
                    a30 = Avx512F.FusedMultiplyAdd(b3, x0, a30);
                    if (TV.Value > 1) a31 = Avx512F.FusedMultiplyAdd(b3, x1, a31);
                    if (TV.Value > 2) a32 = Avx512F.FusedMultiplyAdd(b3, x2, a32);
                    if (TV.Value > 3) a33 = Avx512F.FusedMultiplyAdd(b3, x3, a33);
                }
                if (TK.Value > 4)
                {
                    var b4 = Vector512.Create(w4[i]);
                    a40 = Avx512F.FusedMultiplyAdd(b4, x0, a40);
                    if (TV.Value > 1) a41 = Avx512F.FusedMultiplyAdd(b4, x1, a41);
                    if (TV.Value > 2) a42 = Avx512F.FusedMultiplyAdd(b4, x2, a42);
                    if (TV.Value > 3) a43 = Avx512F.FusedMultiplyAdd(b4, x3, a43);
                }
                if (TK.Value > 5)
                {
                    var b5 = Vector512.Create(w5[i]);
                    a50 = Avx512F.FusedMultiplyAdd(b5, x0, a50);
                    if (TV.Value > 1) a51 = Avx512F.FusedMultiplyAdd(b5, x1, a51);
                    if (TV.Value > 2) a52 = Avx512F.FusedMultiplyAdd(b5, x2, a52);
                    if (TV.Value > 3) a53 = Avx512F.FusedMultiplyAdd(b5, x3, a53);
                }
                if (TK.Value > 6)
                {
                    var b6 = Vector512.Create(w6[i]);
                    a60 = Avx512F.FusedMultiplyAdd(b6, x0, a60);
                    if (TV.Value > 1) a61 = Avx512F.FusedMultiplyAdd(b6, x1, a61);
                    if (TV.Value > 2) a62 = Avx512F.FusedMultiplyAdd(b6, x2, a62);
                    if (TV.Value > 3) a63 = Avx512F.FusedMultiplyAdd(b6, x3, a63);
                }
                if (TK.Value > 7)
                {
                    var b7 = Vector512.Create(w7[i]);
                    a70 = Avx512F.FusedMultiplyAdd(b7, x0, a70);
                    if (TV.Value > 1) a71 = Avx512F.FusedMultiplyAdd(b7, x1, a71);
                    if (TV.Value > 2) a72 = Avx512F.FusedMultiplyAdd(b7, x2, a72);
                    if (TV.Value > 3) a73 = Avx512F.FusedMultiplyAdd(b7, x3, a73);
                }
            }
        }
        StoreRow(y + 0 * ldy, bias, 0, kCount, vCount, output, left, a00, a01, a02, a03);
        if (TK.Value > 1) StoreRow(y + 1 * ldy, bias, 1, kCount, vCount, output, left, a10, a11, a12, a13);
        if (TK.Value > 2) StoreRow(y + 2 * ldy, bias, 2, kCount, vCount, output, left, a20, a21, a22, a23);
        if (TK.Value > 3) StoreRow(y + 3 * ldy, bias, 3, kCount, vCount, output, left, a30, a31, a32, a33);
        if (TK.Value > 4) StoreRow(y + 4 * ldy, bias, 4, kCount, vCount, output, left, a40, a41, a42, a43);
        if (TK.Value > 5) StoreRow(y + 5 * ldy, bias, 5, kCount, vCount, output, left, a50, a51, a52, a53);
        if (TK.Value > 6) StoreRow(y + 6 * ldy, bias, 6, kCount, vCount, output, left, a60, a61, a62, a63);
        if (TK.Value > 7) StoreRow(y + 7 * ldy, bias, 7, kCount, vCount, output, left, a70, a71, a72, a73);
    }

    /// <summary>16 elements from p: lanes[j] picks p[lanes[j]] out of p[0, 32), or p[0, 16) as they are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Assemble<TPermute>(float* p, Vector512<int> lanes)
        where TPermute : struct, IConstant =>
        TPermute.Value == 0
            ? Vector512.Load(p)
            : Avx512F.PermuteVar16x32x2(Vector512.Load(p), lanes, Vector512.Load(p + 16));

    /// <summary>Row k of a kernel block: its valid vectors plus the bias, each masked to its plane's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, float* bias, int k, int kCount, int vCount, int* output, int* left,
        Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
    {
        if (k >= kCount) return;
        var b = bias == null ? Vector512<float>.Zero : Vector512.Create(bias[k]);
        StoreVector(y + output[0], v0 + b, left[0]);
        if (vCount > 1) StoreVector(y + output[1], v1 + b, left[1]);
        if (vCount > 2) StoreVector(y + output[2], v2 + b, left[2]);
        if (vCount > 3) StoreVector(y + output[3], v3 + b, left[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector(float* y, Vector512<float> v, int left)
    {
        if (left >= 16) v.Store(y);
        else Avx512F.MaskStore(y, LaneMask(0, left), v);
    }

    /// <summary>A compile-time count: the JIT specializes generic code over these structs and folds the tests.</summary>
    private interface IConstant
    {
        static abstract int Value { get; }
    }

    private readonly struct Count0 : IConstant
    {
        public static int Value => 0;
    }

    private readonly struct Count1 : IConstant
    {
        public static int Value => 1;
    }

    private readonly struct Count2 : IConstant
    {
        public static int Value => 2;
    }

    private readonly struct Count3 : IConstant
    {
        public static int Value => 3;
    }

    private readonly struct Count4 : IConstant
    {
        public static int Value => 4;
    }

    private readonly struct Count5 : IConstant
    {
        public static int Value => 5;
    }

    private readonly struct Count8 : IConstant
    {
        public static int Value => 8;
    }
}
