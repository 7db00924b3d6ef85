using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The AVX-512 float micro-kernel: a tile of up to 6 rows and 16, 32, 48 or 64 columns of C in up to 24 Vector512
/// accumulators. Each k step loads the tile's B vectors once and broadcasts one A value per row: with 64 columns,
/// 24 FMAs for 10 loads, 30 of the 32 zmm registers.
/// <para>
/// A is read where it lies, through two strides: element (i, p) of the tile's rows is a[i * rsA + p * csA]. Row-major
/// A (rsA = lda, csA = 1), stored-transposed A (rsA = 1, csA = lda) and a packed sliver (rsA = 1, csA = 6) run the
/// same code. B is a sliver of packed or unpacked rows: element (p, j) is b[p * csB + j], all
/// 16 * <typeparamref name="TWidth"/> columns readable.
/// </para>
/// <para>
/// Every element of C is one FMA chain over p in order, then C = alpha * acc (beta == 0, C not read, so NaN in C does
/// not survive) or C = fma(acc, alpha, beta * C); the tile's shape, the strides and which rows and columns are stored
/// do not change a result bit, which keeps results independent of how work is split.
/// </para>
/// </summary>
internal static unsafe class SgemmKernel6xN
{
    /// <summary>Rows per tile.</summary>
    public const int MR = 6;

    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>
    /// C[0:rows, 0:cols] = alpha * A[0:rows, 0:kc] * B[0:kc, 0:cols] + beta * C, with rows &lt;= 6 and cols &lt;= the
    /// tile width; rows past <paramref name="rows"/> are neither read nor written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TWidth>(int kc, float* a, nint rsA, nint csA, float* b, nint csB, float* c, nint ldc,
        int rows, int cols, float alpha, float beta)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        // Missing rows read row 0 again (always valid memory) and are not stored.
        float* a0 = a;
        float* a1 = rows > 1 ? a + rsA : a;
        float* a2 = rows > 2 ? a + 2 * rsA : a;
        float* a3 = rows > 3 ? a + 3 * rsA : a;
        float* a4 = rows > 4 ? a + 4 * rsA : a;
        float* a5 = rows > 5 ? a + 5 * rsA : a;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = v > 1 ? Vector512.Load(b + 16) : default;
            Vector512<float> b2 = v > 2 ? Vector512.Load(b + 32) : default;
            Vector512<float> b3 = v > 3 ? Vector512.Load(b + 48) : default;
            Vector512<float> x = Vector512.Create(a0[off]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            if (v > 1) c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            if (v > 2) c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            if (v > 3) c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[off]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            if (v > 1) c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            if (v > 2) c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            if (v > 3) c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[off]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            if (v > 1) c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            if (v > 2) c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            if (v > 3) c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[off]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            if (v > 1) c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            if (v > 2) c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            if (v > 3) c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            x = Vector512.Create(a4[off]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            if (v > 1) c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            if (v > 2) c42 = Vector512.FusedMultiplyAdd(x, b2, c42);
            if (v > 3) c43 = Vector512.FusedMultiplyAdd(x, b3, c43);
            x = Vector512.Create(a5[off]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            if (v > 1) c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            if (v > 2) c52 = Vector512.FusedMultiplyAdd(x, b2, c52);
            if (v > 3) c53 = Vector512.FusedMultiplyAdd(x, b3, c53);
            off += csA;
            b += csB;
        }

        Vector512<float> va = Vector512.Create(alpha);
        if (rows == MR && cols == 16 * v)
        {
            if (beta == 0f)
            {
                StoreRow<TWidth>(c, va, c00, c01, c02, c03);
                StoreRow<TWidth>(c + ldc, va, c10, c11, c12, c13);
                StoreRow<TWidth>(c + 2 * ldc, va, c20, c21, c22, c23);
                StoreRow<TWidth>(c + 3 * ldc, va, c30, c31, c32, c33);
                StoreRow<TWidth>(c + 4 * ldc, va, c40, c41, c42, c43);
                StoreRow<TWidth>(c + 5 * ldc, va, c50, c51, c52, c53);
            }
            else
            {
                Vector512<float> vb = Vector512.Create(beta);
                UpdateRow<TWidth>(c, va, vb, c00, c01, c02, c03);
                UpdateRow<TWidth>(c + ldc, va, vb, c10, c11, c12, c13);
                UpdateRow<TWidth>(c + 2 * ldc, va, vb, c20, c21, c22, c23);
                UpdateRow<TWidth>(c + 3 * ldc, va, vb, c30, c31, c32, c33);
                UpdateRow<TWidth>(c + 4 * ldc, va, vb, c40, c41, c42, c43);
                UpdateRow<TWidth>(c + 5 * ldc, va, vb, c50, c51, c52, c53);
            }
            return;
        }
        EdgeRow<TWidth>(c, cols, va, beta, c00, c01, c02, c03);
        if (rows > 1) EdgeRow<TWidth>(c + ldc, cols, va, beta, c10, c11, c12, c13);
        if (rows > 2) EdgeRow<TWidth>(c + 2 * ldc, cols, va, beta, c20, c21, c22, c23);
        if (rows > 3) EdgeRow<TWidth>(c + 3 * ldc, cols, va, beta, c30, c31, c32, c33);
        if (rows > 4) EdgeRow<TWidth>(c + 4 * ldc, cols, va, beta, c40, c41, c42, c43);
        if (rows > 5) EdgeRow<TWidth>(c + 5 * ldc, cols, va, beta, c50, c51, c52, c53);
    }

    // C = alpha * acc: C is never read.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TWidth>(float* c, Vector512<float> va, Vector512<float> x0, Vector512<float> x1,
        Vector512<float> x2, Vector512<float> x3)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        (va * x0).Store(c);
        if (v > 1) (va * x1).Store(c + 16);
        if (v > 2) (va * x2).Store(c + 32);
        if (v > 3) (va * x3).Store(c + 48);
    }

    // C = alpha * acc + beta * C, rounded as fma(acc, alpha, beta * C) everywhere.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow<TWidth>(float* c, Vector512<float> va, Vector512<float> vb, Vector512<float> x0,
        Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        Vector512.FusedMultiplyAdd(x0, va, vb * Vector512.Load(c)).Store(c);
        if (v > 1) Vector512.FusedMultiplyAdd(x1, va, vb * Vector512.Load(c + 16)).Store(c + 16);
        if (v > 2) Vector512.FusedMultiplyAdd(x2, va, vb * Vector512.Load(c + 32)).Store(c + 32);
        if (v > 3) Vector512.FusedMultiplyAdd(x3, va, vb * Vector512.Load(c + 48)).Store(c + 48);
    }

    // One row of an edge tile: whole vectors while they fit, the last one masked, nothing past cols.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EdgeRow<TWidth>(float* c, int cols, Vector512<float> va, float beta, Vector512<float> x0,
        Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        EdgeVector(c, cols, va, beta, x0);
        if (v > 1 && cols > 16) EdgeVector(c + 16, cols - 16, va, beta, x1);
        if (v > 2 && cols > 32) EdgeVector(c + 32, cols - 32, va, beta, x2);
        if (v > 3 && cols > 48) EdgeVector(c + 48, cols - 48, va, beta, x3);
    }

    private static void EdgeVector(float* c, int cols, Vector512<float> va, float beta, Vector512<float> acc)
    {
        if (cols >= 16)
        {
            if (beta == 0f) (va * acc).Store(c);
            else Vector512.FusedMultiplyAdd(acc, va, Vector512.Create(beta) * Vector512.Load(c)).Store(c);
            return;
        }
        Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        Vector512<float> result = beta == 0f
            ? va * acc
            : Vector512.FusedMultiplyAdd(acc, va, Vector512.Create(beta) * Avx512F.MaskLoad(c, mask, default));
        Avx512F.MaskStore(c, mask, result);
    }
}
