using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The AVX2 float micro-kernel: a 6 x 16 tile of C in 12 Vector256 accumulators, plus two B vectors and one
/// A broadcast: 15 of the 16 ymm registers AVX2 has.
/// </summary>
internal readonly struct SgemmKernel6x16 : ISgemmMicroKernel
{
    public static int MR => 6;

    public static int NR => 16;

    // A sliver 6 KB and B sliver 16 KB in L1; the B panel 256 x 512 x 4 B = 512 KB in L2.
    public static int KC => 256;

    public static int MC => 144;

    public static int NC => 512;

    public static bool IsSupported => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            a += 6;
            b += 16;
        }
        Vector256<float> va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            StoreRow(c, va, c00, c01);
            StoreRow(c + ldc, va, c10, c11);
            StoreRow(c + 2 * ldc, va, c20, c21);
            StoreRow(c + 3 * ldc, va, c30, c31);
            StoreRow(c + 4 * ldc, va, c40, c41);
            StoreRow(c + 5 * ldc, va, c50, c51);
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            UpdateRow(c, va, vb, c00, c01);
            UpdateRow(c + ldc, va, vb, c10, c11);
            UpdateRow(c + 2 * ldc, va, vb, c20, c21);
            UpdateRow(c + 3 * ldc, va, vb, c30, c31);
            UpdateRow(c + 4 * ldc, va, vb, c40, c41);
            UpdateRow(c + 5 * ldc, va, vb, c50, c51);
        }
    }

    // With 16 columns per tile the padding is at most one vector: nothing to skip.
    public static unsafe void RunEdge(int kc, float* a, float* b, float* tile, int cols) =>
        Run(kc, a, b, tile, NR, 1f, 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector256<float> va, Vector256<float> x0, Vector256<float> x1)
    {
        (va * x0).Store(c);
        (va * x1).Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void UpdateRow(float* c, Vector256<float> va, Vector256<float> vb, Vector256<float> x0,
        Vector256<float> x1)
    {
        Vector256.FusedMultiplyAdd(x0, va, vb * Vector256.Load(c)).Store(c);
        Vector256.FusedMultiplyAdd(x1, va, vb * Vector256.Load(c + 8)).Store(c + 8);
    }
}
