using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

// The register kernels of the direct path (CpuConvolution.Direct.cs). Each is written once for the largest block
// and both vector widths, and specialized by the JIT: TV is the vector type and TS its operations (Masked512,
// Masked256), TK, TN and TI are compile-time counts (IConstant structs), so the tests on them fold away and the
// unused accumulators vanish. The blocks are unrolled by hand because the JIT keeps named locals, not array
// elements, in registers.
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// y[k, output[v] + j] = bias[k] + sum over i &lt; depth of w[i * TK + k] * xp[offsets[i] + start[v] + j] for
    /// k &lt; kCount, v &lt; vCount, j &lt; left[v] (rows of y ldy apart; w a block of weights interleaved by
    /// PackWeightBlocks): a block of TK output channels by TN pixel vectors held in registers (TK * TN
    /// accumulators, TN inputs, a broadcast weight).
    /// Rows and vectors past the counts compute duplicates of the last valid ones and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectKernel<TV, TS, TK, TN>(float* xp, int* offsets, int* start, int* output, int* left,
        int vCount, float* w, int depth, int kCount, float* bias, float* y, int ldy)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
        where TN : struct, IConstant
    {
        int s0 = start[Math.Min(0, vCount - 1)];
        int s1 = start[Math.Min(1, vCount - 1)];
        int s2 = start[Math.Min(2, vCount - 1)];
        int s3 = start[Math.Min(3, vCount - 1)];
        TV a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        TV a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73;
        a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = default;
        a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = default;
        a40 = a41 = a42 = a43 = a50 = a51 = a52 = a53 = default;
        a60 = a61 = a62 = a63 = a70 = a71 = a72 = a73 = default;
        TV x1 = default, x2 = default, x3 = default;
        for (int i = 0; i < depth; i++, w += TK.Value)
        {
            float* p = xp + offsets[i];
            var x0 = TS.Load(p + s0);
            if (TN.Value > 1) x1 = TS.Load(p + s1);
            if (TN.Value > 2) x2 = TS.Load(p + s2);
            if (TN.Value > 3) x3 = TS.Load(p + s3);
            var b0 = TS.Broadcast(w[0]);
            a00 = TS.Fma(b0, x0, a00);
            if (TN.Value > 1) a01 = TS.Fma(b0, x1, a01);
            if (TN.Value > 2) a02 = TS.Fma(b0, x2, a02);
            if (TN.Value > 3) a03 = TS.Fma(b0, x3, a03);
            if (TK.Value > 1)
            {
                var b1 = TS.Broadcast(w[1]);
                a10 = TS.Fma(b1, x0, a10);
                if (TN.Value > 1) a11 = TS.Fma(b1, x1, a11);
                if (TN.Value > 2) a12 = TS.Fma(b1, x2, a12);
                if (TN.Value > 3) a13 = TS.Fma(b1, x3, a13);
            }
            if (TK.Value > 2)
            {
                var b2 = TS.Broadcast(w[2]);
                a20 = TS.Fma(b2, x0, a20);
                if (TN.Value > 1) a21 = TS.Fma(b2, x1, a21);
                if (TN.Value > 2) a22 = TS.Fma(b2, x2, a22);
                if (TN.Value > 3) a23 = TS.Fma(b2, x3, a23);
            }
            if (TK.Value > 3)
            {
                var b3 = TS.Broadcast(w[3]);
                a30 = TS.Fma(b3, x0, a30);
                if (TN.Value > 1) a31 = TS.Fma(b3, x1, a31);
                if (TN.Value > 2) a32 = TS.Fma(b3, x2, a32);
                if (TN.Value > 3) a33 = TS.Fma(b3, x3, a33);
            }
            if (TK.Value > 4)
            {
                var b4 = TS.Broadcast(w[4]);
                a40 = TS.Fma(b4, x0, a40);
                if (TN.Value > 1) a41 = TS.Fma(b4, x1, a41);
                if (TN.Value > 2) a42 = TS.Fma(b4, x2, a42);
                if (TN.Value > 3) a43 = TS.Fma(b4, x3, a43);
            }
            if (TK.Value > 5)
            {
                var b5 = TS.Broadcast(w[5]);
                a50 = TS.Fma(b5, x0, a50);
                if (TN.Value > 1) a51 = TS.Fma(b5, x1, a51);
                if (TN.Value > 2) a52 = TS.Fma(b5, x2, a52);
                if (TN.Value > 3) a53 = TS.Fma(b5, x3, a53);
            }
            if (TK.Value > 6)
            {
                var b6 = TS.Broadcast(w[6]);
                a60 = TS.Fma(b6, x0, a60);
                if (TN.Value > 1) a61 = TS.Fma(b6, x1, a61);
                if (TN.Value > 2) a62 = TS.Fma(b6, x2, a62);
                if (TN.Value > 3) a63 = TS.Fma(b6, x3, a63);
            }
            if (TK.Value > 7)
            {
                var b7 = TS.Broadcast(w[7]);
                a70 = TS.Fma(b7, x0, a70);
                if (TN.Value > 1) a71 = TS.Fma(b7, x1, a71);
                if (TN.Value > 2) a72 = TS.Fma(b7, x2, a72);
                if (TN.Value > 3) a73 = TS.Fma(b7, x3, a73);
            }
        }
        StoreRow<TV, TS>(y + 0 * ldy, bias, 0, kCount, vCount, output, left, a00, a01, a02, a03);
        if (TK.Value > 1) StoreRow<TV, TS>(y + 1 * ldy, bias, 1, kCount, vCount, output, left, a10, a11, a12, a13);
        if (TK.Value > 2) StoreRow<TV, TS>(y + 2 * ldy, bias, 2, kCount, vCount, output, left, a20, a21, a22, a23);
        if (TK.Value > 3) StoreRow<TV, TS>(y + 3 * ldy, bias, 3, kCount, vCount, output, left, a30, a31, a32, a33);
        if (TK.Value > 4) StoreRow<TV, TS>(y + 4 * ldy, bias, 4, kCount, vCount, output, left, a40, a41, a42, a43);
        if (TK.Value > 5) StoreRow<TV, TS>(y + 5 * ldy, bias, 5, kCount, vCount, output, left, a50, a51, a52, a53);
        if (TK.Value > 6) StoreRow<TV, TS>(y + 6 * ldy, bias, 6, kCount, vCount, output, left, a60, a61, a62, a63);
        if (TK.Value > 7) StoreRow<TV, TS>(y + 7 * ldy, bias, 7, kCount, vCount, output, left, a70, a71, a72, a73);
    }

    /// <summary>
    /// dw[k, i] = (accumulate ? dw[k, i] : 0) + sum over v &lt; count, j &lt; left[v] of dy[k, output[v] + j] *
    /// xp[offsets[i] + start[v] + j] for k &lt; kCount, i &lt; iCount (rows of dy and dw ldy and depth apart): a
    /// block of TK output channels by TI column rows, each a vector of lane sums in a register, summed across
    /// the lanes at the end. Rows past the counts compute duplicates of the last valid ones and are not stored.
    /// TM says whether some vectors are partial (planes not a whole number of vectors): only then are the loads
    /// masked, which with AVX2 costs a vector-port operation per load and six to build each mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectWeightKernel<TV, TS, TK, TI, TM>(float* xp, int* offsets, int* start, int* output,
        int* left, int count, float* dy, int ldy, int kCount, int iCount, float* dw, int depth, bool accumulate)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TK : struct, IConstant
        where TI : struct, IConstant
        where TM : struct, IFlag
    {
        float* dy0 = dy + (long)Math.Min(0, kCount - 1) * ldy;
        float* dy1 = dy + (long)Math.Min(1, kCount - 1) * ldy;
        float* dy2 = dy + (long)Math.Min(2, kCount - 1) * ldy;
        float* dy3 = dy + (long)Math.Min(3, kCount - 1) * ldy;
        float* dy4 = dy + (long)Math.Min(4, kCount - 1) * ldy;
        float* dy5 = dy + (long)Math.Min(5, kCount - 1) * ldy;
        float* x0 = xp + offsets[Math.Min(0, iCount - 1)];
        float* x1 = xp + offsets[Math.Min(1, iCount - 1)];
        float* x2 = xp + offsets[Math.Min(2, iCount - 1)];
        float* x3 = xp + offsets[Math.Min(3, iCount - 1)];
        float* x4 = xp + offsets[Math.Min(4, iCount - 1)];
        float* x5 = xp + offsets[Math.Min(5, iCount - 1)];
        TV a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15, a20, a21, a22, a23, a24, a25;
        TV a30, a31, a32, a33, a34, a35, a40, a41, a42, a43, a44, a45, a50, a51, a52, a53, a54, a55;
        a00 = a01 = a02 = a03 = a04 = a05 = a10 = a11 = default;
        a12 = a13 = a14 = a15 = a20 = a21 = a22 = a23 = default;
        a24 = a25 = a30 = a31 = a32 = a33 = a34 = a35 = default;
        a40 = a41 = a42 = a43 = a44 = a45 = a50 = a51 = default;
        a52 = a53 = a54 = a55 = default;
        TV g1, g2, g3, g4, g5;
        g1 = g2 = g3 = g4 = g5 = default;
        for (int v = 0; v < count; v++)
        {
            // The last vector of an image is masked to it on both sides: lanes past the plane read neither the
            // gradient nor whatever the staged input holds there.
            var mask = TM.Value ? TS.Mask(0, left[v]) : default;
            int o = output[v], s = start[v];
            var g0 = LoadPart<TV, TS, TM>(dy0 + o, mask);
            if (TK.Value > 1) g1 = LoadPart<TV, TS, TM>(dy1 + o, mask);
            if (TK.Value > 2) g2 = LoadPart<TV, TS, TM>(dy2 + o, mask);
            if (TK.Value > 3) g3 = LoadPart<TV, TS, TM>(dy3 + o, mask);
            if (TK.Value > 4) g4 = LoadPart<TV, TS, TM>(dy4 + o, mask);
            if (TK.Value > 5) g5 = LoadPart<TV, TS, TM>(dy5 + o, mask);
            var c0 = LoadPart<TV, TS, TM>(x0 + s, mask);
            a00 = TS.Fma(g0, c0, a00);
            if (TK.Value > 1) a10 = TS.Fma(g1, c0, a10);
            if (TK.Value > 2) a20 = TS.Fma(g2, c0, a20);
            if (TK.Value > 3) a30 = TS.Fma(g3, c0, a30);
            if (TK.Value > 4) a40 = TS.Fma(g4, c0, a40);
            if (TK.Value > 5) a50 = TS.Fma(g5, c0, a50);
            if (TI.Value > 1)
            {
                var c1 = LoadPart<TV, TS, TM>(x1 + s, mask);
                a01 = TS.Fma(g0, c1, a01);
                if (TK.Value > 1) a11 = TS.Fma(g1, c1, a11);
                if (TK.Value > 2) a21 = TS.Fma(g2, c1, a21);
                if (TK.Value > 3) a31 = TS.Fma(g3, c1, a31);
                if (TK.Value > 4) a41 = TS.Fma(g4, c1, a41);
                if (TK.Value > 5) a51 = TS.Fma(g5, c1, a51);
            }
            if (TI.Value > 2)
            {
                var c2 = LoadPart<TV, TS, TM>(x2 + s, mask);
                a02 = TS.Fma(g0, c2, a02);
                if (TK.Value > 1) a12 = TS.Fma(g1, c2, a12);
                if (TK.Value > 2) a22 = TS.Fma(g2, c2, a22);
                if (TK.Value > 3) a32 = TS.Fma(g3, c2, a32);
                if (TK.Value > 4) a42 = TS.Fma(g4, c2, a42);
                if (TK.Value > 5) a52 = TS.Fma(g5, c2, a52);
            }
            if (TI.Value > 3)
            {
                var c3 = LoadPart<TV, TS, TM>(x3 + s, mask);
                a03 = TS.Fma(g0, c3, a03);
                if (TK.Value > 1) a13 = TS.Fma(g1, c3, a13);
                if (TK.Value > 2) a23 = TS.Fma(g2, c3, a23);
                if (TK.Value > 3) a33 = TS.Fma(g3, c3, a33);
                if (TK.Value > 4) a43 = TS.Fma(g4, c3, a43);
                if (TK.Value > 5) a53 = TS.Fma(g5, c3, a53);
            }
            if (TI.Value > 4)
            {
                var c4 = LoadPart<TV, TS, TM>(x4 + s, mask);
                a04 = TS.Fma(g0, c4, a04);
                if (TK.Value > 1) a14 = TS.Fma(g1, c4, a14);
                if (TK.Value > 2) a24 = TS.Fma(g2, c4, a24);
                if (TK.Value > 3) a34 = TS.Fma(g3, c4, a34);
                if (TK.Value > 4) a44 = TS.Fma(g4, c4, a44);
                if (TK.Value > 5) a54 = TS.Fma(g5, c4, a54);
            }
            if (TI.Value > 5)
            {
                var c5 = LoadPart<TV, TS, TM>(x5 + s, mask);
                a05 = TS.Fma(g0, c5, a05);
                if (TK.Value > 1) a15 = TS.Fma(g1, c5, a15);
                if (TK.Value > 2) a25 = TS.Fma(g2, c5, a25);
                if (TK.Value > 3) a35 = TS.Fma(g3, c5, a35);
                if (TK.Value > 4) a45 = TS.Fma(g4, c5, a45);
                if (TK.Value > 5) a55 = TS.Fma(g5, c5, a55);
            }
        }
        StoreSums<TV, TS>(dw + 0 * depth, 0, kCount, iCount, accumulate, a00, a01, a02, a03, a04, a05);
        if (TK.Value > 1)
            StoreSums<TV, TS>(dw + 1 * depth, 1, kCount, iCount, accumulate, a10, a11, a12, a13, a14, a15);
        if (TK.Value > 2)
            StoreSums<TV, TS>(dw + 2 * depth, 2, kCount, iCount, accumulate, a20, a21, a22, a23, a24, a25);
        if (TK.Value > 3)
            StoreSums<TV, TS>(dw + 3 * depth, 3, kCount, iCount, accumulate, a30, a31, a32, a33, a34, a35);
        if (TK.Value > 4)
            StoreSums<TV, TS>(dw + 4 * depth, 4, kCount, iCount, accumulate, a40, a41, a42, a43, a44, a45);
        if (TK.Value > 5)
            StoreSums<TV, TS>(dw + 5 * depth, 5, kCount, iCount, accumulate, a50, a51, a52, a53, a54, a55);
    }

    /// <summary>A load masked to the lanes in the mask when TM is set, else a plain one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LoadPart<TV, TS, TM>(float* p, TV mask)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
        where TM : struct, IFlag =>
        TM.Value ? TS.MaskLoad(p, mask) : TS.Load(p);

    /// <summary>Row k of an output block: its valid vectors plus the bias, each masked to its plane's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TV, TS>(float* y, float* bias, int k, int kCount, int vCount, int* output,
        int* left, TV v0, TV v1, TV v2, TV v3)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        if (k >= kCount) return;
        var b = bias == null ? default : TS.Broadcast(bias[k]);
        StoreVector<TV, TS>(y + output[0], TS.Add(v0, b), left[0]);
        if (vCount > 1) StoreVector<TV, TS>(y + output[1], TS.Add(v1, b), left[1]);
        if (vCount > 2) StoreVector<TV, TS>(y + output[2], TS.Add(v2, b), left[2]);
        if (vCount > 3) StoreVector<TV, TS>(y + output[3], TS.Add(v3, b), left[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector<TV, TS>(float* y, TV v, int left)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        if (left >= TS.Width) TS.Store(v, y);
        else TS.MaskStore(y, TS.Mask(0, left), v);
    }

    /// <summary>Row k of a weight-gradient block: each valid accumulator's lane sum, added or stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSums<TV, TS>(float* dw, int k, int kCount, int iCount, bool accumulate, TV a0, TV a1,
        TV a2, TV a3, TV a4, TV a5)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        if (k >= kCount) return;
        StoreSum<TV, TS>(dw, accumulate, a0);
        if (iCount > 1) StoreSum<TV, TS>(dw + 1, accumulate, a1);
        if (iCount > 2) StoreSum<TV, TS>(dw + 2, accumulate, a2);
        if (iCount > 3) StoreSum<TV, TS>(dw + 3, accumulate, a3);
        if (iCount > 4) StoreSum<TV, TS>(dw + 4, accumulate, a4);
        if (iCount > 5) StoreSum<TV, TS>(dw + 5, accumulate, a5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSum<TV, TS>(float* dw, bool accumulate, TV a)
        where TV : unmanaged
        where TS : struct, IMaskedSimd<TV>
    {
        float sum = TS.Sum(a);
        *dw = accumulate ? *dw + sum : sum;
    }

    /// <summary>A compile-time count: the JIT specializes generic code on it and folds the tests.</summary>
    private interface IConstant
    {
        static abstract int Value { get; }
    }

    /// <summary>A compile-time flag, as <see cref="IConstant"/> is a count.</summary>
    private interface IFlag
    {
        static abstract bool Value { get; }
    }

    private readonly struct Yes : IFlag
    {
        public static bool Value => true;
    }

    private readonly struct No : IFlag
    {
        public static bool Value => false;
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

    private readonly struct Count6 : IConstant
    {
        public static int Value => 6;
    }

    private readonly struct Count8 : IConstant
    {
        public static int Value => 8;
    }
}
