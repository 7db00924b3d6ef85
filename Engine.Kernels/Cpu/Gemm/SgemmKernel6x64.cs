using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The AVX-512 float micro-kernel: a 6 x 64 tile of C in 24 Vector512 accumulators. Each k step loads four B
/// vectors and broadcasts six A values: 24 FMAs, 30 of the 32 zmm registers. Written straight-line because the
/// JIT may re-roll source-level unroll loops.
/// </summary>
internal readonly struct SgemmKernel6x64 : ISgemmMicroKernel
{
    public static int MR => 6;

    public static int NR => 64;

    // A sliver 6 x 256 x 4 B = 6 KB stays in L1 while the kernel walks the B panel; the B panel 256 x 768 x 4 B
    // = 768 KB stays in L2 (1 MiB on Zen 4, 2 MiB on recent Xeons). MC only sizes the A buffer: each A sliver is
    // used once per B panel, so the whole A block need not fit anywhere. On a 2 MiB-L2 Xeon, KC 384-512 and NC
    // up to 1536 measured within noise of this; a panel of 2 MiB (512 x 1024) lost 25%.
    public static int KC => 256;

    public static int MC => 144;

    public static int NC => 768;

    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> b2 = Vector512.Load(b + 32);
            Vector512<float> b3 = Vector512.Load(b + 48);
            Vector512<float> ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(ai, b2, c02);
            c03 = Vector512.FusedMultiplyAdd(ai, b3, c03);
            ai = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(ai, b2, c12);
            c13 = Vector512.FusedMultiplyAdd(ai, b3, c13);
            ai = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(ai, b2, c22);
            c23 = Vector512.FusedMultiplyAdd(ai, b3, c23);
            ai = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(ai, b2, c32);
            c33 = Vector512.FusedMultiplyAdd(ai, b3, c33);
            ai = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            c42 = Vector512.FusedMultiplyAdd(ai, b2, c42);
            c43 = Vector512.FusedMultiplyAdd(ai, b3, c43);
            ai = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            c52 = Vector512.FusedMultiplyAdd(ai, b2, c52);
            c53 = Vector512.FusedMultiplyAdd(ai, b3, c53);
            a += 6;
            b += 64;
        }
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            StoreRow(c, va, c00, c01, c02, c03);
            StoreRow(c + ldc, va, c10, c11, c12, c13);
            StoreRow(c + 2 * ldc, va, c20, c21, c22, c23);
            StoreRow(c + 3 * ldc, va, c30, c31, c32, c33);
            StoreRow(c + 4 * ldc, va, c40, c41, c42, c43);
            StoreRow(c + 5 * ldc, va, c50, c51, c52, c53);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            UpdateRow(c, va, vb, c00, c01, c02, c03);
            UpdateRow(c + ldc, va, vb, c10, c11, c12, c13);
            UpdateRow(c + 2 * ldc, va, vb, c20, c21, c22, c23);
            UpdateRow(c + 3 * ldc, va, vb, c30, c31, c32, c33);
            UpdateRow(c + 4 * ldc, va, vb, c40, c41, c42, c43);
            UpdateRow(c + 5 * ldc, va, vb, c50, c51, c52, c53);
        }
    }

    /// <summary>
    /// A narrow last sliver (say 10 or 20 columns of 64) runs 16 columns at a time: a 6 x 16 kernel with six
    /// accumulators, slower per FMA than the full tile but up to four times less work.
    /// </summary>
    public static unsafe void RunEdge(int kc, float* a, float* b, float* tile, int cols)
    {
        if (cols > 48)
        {
            Run(kc, a, b, tile, NR, 1f, 0f);
            return;
        }
        for (int j = 0; j < cols; j += 16) Run6x16(kc, a, b + j, tile + j);
    }

    // tile[6 x 16] (rows NR apart) = A sliver * the 16 columns of the B sliver starting at b.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Run6x16(int kc, float* a, float* b, float* tile)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            a += 6;
            b += 64;
        }
        c0.Store(tile);
        c1.Store(tile + 64);
        c2.Store(tile + 2 * 64);
        c3.Store(tile + 3 * 64);
        c4.Store(tile + 4 * 64);
        c5.Store(tile + 5 * 64);
    }

    // C = alpha * acc: C is never read, so NaN or garbage in C does not leak through beta == 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector512<float> va, Vector512<float> x0, Vector512<float> x1,
        Vector512<float> x2, Vector512<float> x3)
    {
        (va * x0).Store(c);
        (va * x1).Store(c + 16);
        (va * x2).Store(c + 32);
        (va * x3).Store(c + 48);
    }

    // C = alpha * acc + beta * C, rounded as the scalar edge path rounds it (see SgemmDriver.StoreEdge).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void UpdateRow(float* c, Vector512<float> va, Vector512<float> vb, Vector512<float> x0,
        Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        Vector512.FusedMultiplyAdd(x0, va, vb * Vector512.Load(c)).Store(c);
        Vector512.FusedMultiplyAdd(x1, va, vb * Vector512.Load(c + 16)).Store(c + 16);
        Vector512.FusedMultiplyAdd(x2, va, vb * Vector512.Load(c + 32)).Store(c + 32);
        Vector512.FusedMultiplyAdd(x3, va, vb * Vector512.Load(c + 48)).Store(c + 48);
    }
}
