using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The float micro-kernel of the narrower vector paths: a 6 x 2W tile of C (W floats per vector: 6 x 16 with
/// Vector256, 6 x 8 with Vector128) in 12 accumulators, plus two B vectors and one A broadcast: 15 registers, which
/// fits the 16 that AVX2 and SSE have (ARM64 has 32). Twelve independent FMA chains cover the FMA latency of two
/// pipes (4-5 cycles on Haswell and Zen), and each k step loads two B vectors and broadcasts six A values for twelve
/// FMAs, within two loads a cycle. BLIS's Haswell sgemm kernel has the same 6 x 16 shape. A is read in place
/// through two strides (see <see cref="ISgemmMicroKernel"/>): six rows of A are as good a stream as a packed sliver,
/// and packing them cost about a tenth of a 512 x 512 x 512 product.
/// <para>
/// Every element of C is one FMA chain over p in order, then C = alpha * acc (beta == 0, C not read) or
/// C = fma(acc, alpha, beta * C), as in every other GEMM path.
/// </para>
/// </summary>
internal readonly struct SgemmKernel6x2V<TSimd, TV> : ISgemmMicroKernel
    where TSimd : ISimdFloat<TV>
    where TV : struct
{
    public static int MR => 6;

    public static int NR => 2 * TSimd.Width;

    // With Vector256: six rows of A, 6 KB, and a B sliver, 16 KB, in L1; the B panel 256 x 512 x 4 B = 512 KB in L2.
    public static int KC => 256;

    public static int MC => 144;

    public static int NC => 512;

    // Row-major A, read in place: a 6 x 512 A sliver, 12 KB, in L1; the B panel 512 x 256 x 4 B, the same 512 KB.
    // Interleaved with OpenBLAS Haswell, one thread, AVX2 (fastest calls, 2-3 rounds): NN 512 0.94-0.97x its speed
    // -> 0.96-0.98x, NT 512 0.99 -> 1.01-1.04, NT 1024 0.98-0.99 -> 1.01-1.03, the MLP's 256 x 256 x 784 forward
    // 0.98 -> 1.01. Stored-transposed A keeps 256 x 512: with KC 512 its packed rows crowd the L2 (TN 512 0.93-0.95
    // -> 0.89-0.91).
    public static int KCRowMajorA => TSimd.Width == 8 ? 512 : KC;

    public static int NCRowMajorA => TSimd.Width == 8 ? 256 : NC;

    public static bool IsSupported => TSimd.IsSupported;

    public static unsafe void Run(int kc, float* a, nint rsA, nint csA, float* b, float* c, nint ldc, float alpha,
        float beta)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            // Start fetching the C tile now: its lines arrive while the k loop runs, not when it ends.
            for (int i = 0; i < 6; i++) System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + i * ldc);
        }
        Tile(kc, 6, a, rsA, csA, b, c, ldc, alpha, beta);
    }

    public static unsafe void RunEdge(int kc, int rows, float* a, nint rsA, nint csA, float* b, float* tile) =>
        Tile(kc, rows, a, rsA, csA, b, tile, NR, 1f, 0f);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile(int kc, int rows, float* a, nint rsA, nint csA, float* b, float* c, nint ldc,
        float alpha, float beta)
    {
        int w = TSimd.Width;
        // Missing rows read row 0 again (always valid memory); their results are not stored.
        float* a0 = a;
        float* a1 = rows > 1 ? a + rsA : a;
        float* a2 = rows > 2 ? a + 2 * rsA : a;
        float* a3 = rows > 3 ? a + 3 * rsA : a;
        float* a4 = rows > 4 ? a + 4 * rsA : a;
        float* a5 = rows > 5 ? a + 5 * rsA : a;
        TV c00 = default, c01 = default, c10 = default, c11 = default;
        TV c20 = default, c21 = default, c30 = default, c31 = default;
        TV c40 = default, c41 = default, c50 = default, c51 = default;
        nint step = 2 * w, off = 0;
        for (int p = 0; p < kc; p++)
        {
            TV b0 = TSimd.Load(b);
            TV b1 = TSimd.Load(b + w);
            TV ai = TSimd.Broadcast(a0[off]);
            c00 = TSimd.Fma(ai, b0, c00);
            c01 = TSimd.Fma(ai, b1, c01);
            ai = TSimd.Broadcast(a1[off]);
            c10 = TSimd.Fma(ai, b0, c10);
            c11 = TSimd.Fma(ai, b1, c11);
            ai = TSimd.Broadcast(a2[off]);
            c20 = TSimd.Fma(ai, b0, c20);
            c21 = TSimd.Fma(ai, b1, c21);
            ai = TSimd.Broadcast(a3[off]);
            c30 = TSimd.Fma(ai, b0, c30);
            c31 = TSimd.Fma(ai, b1, c31);
            ai = TSimd.Broadcast(a4[off]);
            c40 = TSimd.Fma(ai, b0, c40);
            c41 = TSimd.Fma(ai, b1, c41);
            ai = TSimd.Broadcast(a5[off]);
            c50 = TSimd.Fma(ai, b0, c50);
            c51 = TSimd.Fma(ai, b1, c51);
            off += csA;
            b += step;
        }
        // alpha == 1 and beta == 1 (later K blocks) skip exact multiplies: the same bits as the general update.
        int mode = beta == 0f ? (alpha == 1f ? Store : ScaledStore) : alpha == 1f && beta == 1f ? Add : Update;
        TV va = TSimd.Broadcast(alpha), vb = TSimd.Broadcast(beta);
        WriteRow(c, w, mode, va, vb, c00, c01);
        WriteRow(c + ldc, w, mode, va, vb, c10, c11);
        WriteRow(c + 2 * ldc, w, mode, va, vb, c20, c21);
        WriteRow(c + 3 * ldc, w, mode, va, vb, c30, c31);
        WriteRow(c + 4 * ldc, w, mode, va, vb, c40, c41);
        WriteRow(c + 5 * ldc, w, mode, va, vb, c50, c51);
    }

    // How a tile row reaches C.
    private const int Store = 0, ScaledStore = 1, Add = 2, Update = 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WriteRow(float* c, int w, int mode, TV va, TV vb, TV x0, TV x1)
    {
        Write(c, mode, va, vb, x0);
        Write(c + w, mode, va, vb, x1);
    }

    // C = alpha * acc (C never read when beta == 0), or fma(acc, alpha, beta * C).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Write(float* c, int mode, TV va, TV vb, TV acc)
    {
        switch (mode)
        {
            case Store: TSimd.Store(acc, c); break;
            case ScaledStore: TSimd.Store(TSimd.Multiply(va, acc), c); break;
            case Add: TSimd.Store(TSimd.Add(acc, TSimd.Load(c)), c); break;
            default: TSimd.Store(TSimd.Fma(acc, va, TSimd.Multiply(vb, TSimd.Load(c))), c); break;
        }
    }
}
