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
    /// C[0:m, 0:cols] = alpha * A[0:m, 0:kc] * B[0:kc, 0:cols] + beta * C, cols &lt;= the tile width, six rows at a
    /// time down one B sliver: the A sliver of rows 6t.. starts at a + t * tsA.
    /// </summary>
    public static void Run<TWidth>(int kc, int m, float* a, nint rsA, nint csA, nint tsA, float* b, nint csB,
        float* c, nint ldc, int cols, float alpha, float beta)
        where TWidth : ISgemmTileWidth
    {
        for (int i = 0; i < m; i += MR)
            Tile<TWidth>(kc, Math.Min(MR, m - i), a + i / MR * tsA, rsA, csA, b, csB, c + i * ldc, ldc, cols, alpha,
                beta);
    }

    // Compiled fully optimised on first use: the tier-0 code of a vector kernel is many times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TWidth>(int kc, int rows, float* a, nint rsA, nint csA, float* b, nint csB, float* c,
        nint ldc, int cols, float alpha, float beta)
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
        // Start fetching the C tile now: its lines arrive while the k loop runs, not when it ends.
        PrefetchRow<TWidth>(c);
        if (rows > 1) PrefetchRow<TWidth>(c + ldc);
        if (rows > 2) PrefetchRow<TWidth>(c + 2 * ldc);
        if (rows > 3) PrefetchRow<TWidth>(c + 3 * ldc);
        if (rows > 4) PrefetchRow<TWidth>(c + 4 * ldc);
        if (rows > 5) PrefetchRow<TWidth>(c + 5 * ldc);
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
            // alpha == 1 skips the multiply and beta == 1 (later K blocks) the one of C: both are exact, so the
            // result is the same bits as the general update's.
            int mode = beta == 0f ? (alpha == 1f ? Store : ScaledStore) : alpha == 1f && beta == 1f ? Add : Update;
            Vector512<float> vb = Vector512.Create(beta);
            WriteRow<TWidth>(c, mode, va, vb, c00, c01, c02, c03);
            WriteRow<TWidth>(c + ldc, mode, va, vb, c10, c11, c12, c13);
            WriteRow<TWidth>(c + 2 * ldc, mode, va, vb, c20, c21, c22, c23);
            WriteRow<TWidth>(c + 3 * ldc, mode, va, vb, c30, c31, c32, c33);
            WriteRow<TWidth>(c + 4 * ldc, mode, va, vb, c40, c41, c42, c43);
            WriteRow<TWidth>(c + 5 * ldc, mode, va, vb, c50, c51, c52, c53);
            return;
        }
        // Edge tile: every vector stored through a mask of its valid columns (empty past cols).
        Vector512<int> left = Vector512.Create(cols) - Vector512<int>.Indices;
        Vector512<float> m0 = Vector512.GreaterThan(left, Vector512<int>.Zero).AsSingle();
        Vector512<float> m1 = Vector512.GreaterThan(left, Vector512.Create(16)).AsSingle();
        Vector512<float> m2 = Vector512.GreaterThan(left, Vector512.Create(32)).AsSingle();
        Vector512<float> m3 = Vector512.GreaterThan(left, Vector512.Create(48)).AsSingle();
        EdgeRow<TWidth>(c, m0, m1, m2, m3, va, beta, c00, c01, c02, c03);
        if (rows > 1) EdgeRow<TWidth>(c + ldc, m0, m1, m2, m3, va, beta, c10, c11, c12, c13);
        if (rows > 2) EdgeRow<TWidth>(c + 2 * ldc, m0, m1, m2, m3, va, beta, c20, c21, c22, c23);
        if (rows > 3) EdgeRow<TWidth>(c + 3 * ldc, m0, m1, m2, m3, va, beta, c30, c31, c32, c33);
        if (rows > 4) EdgeRow<TWidth>(c + 4 * ldc, m0, m1, m2, m3, va, beta, c40, c41, c42, c43);
        if (rows > 5) EdgeRow<TWidth>(c + 5 * ldc, m0, m1, m2, m3, va, beta, c50, c51, c52, c53);
    }

    // A prefetch is a hint: it never faults, so the tile's last line may lie past the end of C.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow<TWidth>(float* c)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        Sse.Prefetch0(c);
        if (v > 1) Sse.Prefetch0(c + 16);
        if (v > 2) Sse.Prefetch0(c + 32);
        if (v > 3) Sse.Prefetch0(c + 48);
    }

    // How a full tile row reaches C.
    private const int Store = 0, ScaledStore = 1, Add = 2, Update = 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow<TWidth>(float* c, int mode, Vector512<float> va, Vector512<float> vb,
        Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        Write(c, mode, va, vb, x0);
        if (v > 1) Write(c + 16, mode, va, vb, x1);
        if (v > 2) Write(c + 32, mode, va, vb, x2);
        if (v > 3) Write(c + 48, mode, va, vb, x3);
    }

    // C = alpha * acc (C never read when beta == 0), or fma(acc, alpha, beta * C).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(float* c, int mode, Vector512<float> va, Vector512<float> vb, Vector512<float> acc)
    {
        switch (mode)
        {
            case Store: acc.Store(c); break;
            case ScaledStore: (va * acc).Store(c); break;
            case Add: (acc + Vector512.Load(c)).Store(c); break;
            default: Vector512.FusedMultiplyAdd(acc, va, vb * Vector512.Load(c)).Store(c); break;
        }
    }

    // One row of an edge tile: C is read (beta != 0) and written only under the masks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EdgeRow<TWidth>(float* c, Vector512<float> m0, Vector512<float> m1, Vector512<float> m2,
        Vector512<float> m3, Vector512<float> va, float beta, Vector512<float> x0, Vector512<float> x1,
        Vector512<float> x2, Vector512<float> x3)
        where TWidth : ISgemmTileWidth
    {
        int v = TWidth.Vectors;
        EdgeVector(c, m0, va, beta, x0);
        if (v > 1) EdgeVector(c + 16, m1, va, beta, x1);
        if (v > 2) EdgeVector(c + 32, m2, va, beta, x2);
        if (v > 3) EdgeVector(c + 48, m3, va, beta, x3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EdgeVector(float* c, Vector512<float> mask, Vector512<float> va, float beta,
        Vector512<float> acc)
    {
        Vector512<float> result = beta == 0f
            ? va * acc
            : Vector512.FusedMultiplyAdd(acc, va, Vector512.Create(beta) * Avx512F.MaskLoad(c, mask, default));
        Avx512F.MaskStore(c, mask, result);
    }
}
