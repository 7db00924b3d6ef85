using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Float GEMM for a few rows of C (batch-1 inference, a small last batch), without packing: with m rows the
/// packed path would copy all of B to use it m times and fill micro-kernel tiles 6 rows tall, so here each row of
/// C is computed straight from B's memory (one pass over B per row, like GEMV). Also very shallow products of any
/// height (<see cref="SuitsShallow"/>). Every element is the same FMA chain as in the micro-kernels, so results do
/// not depend on the path. Here m, n, k &gt; 0, alpha != 0.
/// </summary>
internal static class SgemmSmallM
{
    /// <summary>
    /// Rows up to which this path beats packing. Measured at m x 784 x 256: 4x faster with one row, 2x with two,
    /// even with four; at 4 x 1024 x 1024 B no longer fits in L2 and reading it once per row loses 2x.
    /// </summary>
    public const int MaxRows = 2;

    /// <summary>
    /// Deepest K for which any number of rows runs here, four rows at a time (two with Vector256). With K this small
    /// the micro-kernel's 6 x 64 tiles spend much of each tile outside its few FMAs, and rows computed straight from B,
    /// written whole and in address order, run faster: MLP's dx = dy W, 256 x 256 x 10, 7.8 us against 13.2 for the
    /// tiles (standalone, 1 thread); with two rows at a time, 256 x 256 x 16 15.0 against 17.4 and 1024 x 1024 x 8 190
    /// against 241. The gain shrinks with depth (256 x 256 x 32: 27.9 against 28.8), and a row whose width is not a
    /// multiple of 16 ends in scalar columns that read B down its rows (256 x 84 x 10: 17 us against 6), which
    /// <see cref="SuitsShallow"/> excludes.
    /// </summary>
    public const int MaxDepth = 16;

    /// <summary>Whether a product of any height runs here because it is shallow (see <see cref="MaxDepth"/>).</summary>
    public static bool SuitsShallow(bool transB, int n, int k) => k <= MaxDepth && !transB && n % 16 == 0;
}

/// <summary>
/// <see cref="SgemmSmallM"/>'s kernels at one vector width (<see cref="Simd512"/>, <see cref="Simd256"/>,
/// <see cref="Simd128"/>): tiles four vectors wide, four rows at a time where there are 32 registers (Vector512),
/// else two (eight accumulators, four loads of B and two broadcasts fit AVX2's sixteen registers).
/// </summary>
internal static unsafe class SgemmSmallM<TSimd, TV>
    where TSimd : ISimdFloat<TV>
    where TV : struct
{
    /// <summary>Rows of C per parallel work item when a shallow product is tall enough to split by rows.</summary>
    private const int RowBlock = 16;

    /// <summary>
    /// Splits the work across threads when it is large: a tall product (shallow, see
    /// <see cref="SgemmSmallM.MaxDepth"/>) by blocks of <see cref="RowBlock"/> whole rows of C, else by blocks of 64
    /// columns. Every element is computed the same way wherever a split falls. Column blocks of a tall C had each
    /// thread write 256 bytes of every row: 1024 x 1024 x 8 on two threads took 178-228 us against one thread's
    /// 240 (AVX2).
    /// </summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        if (m >= 4 * RowBlock)
        {
            long grain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)RowBlock * n * k));
            CpuParallel.For((m + RowBlock - 1) / RowBlock, grain, (s, e) =>
            {
                int i0 = (int)s * RowBlock, rows = (int)Math.Min(e * RowBlock, m) - i0;
                float* ai = (float*)pa + (transA ? i0 : i0 * lda);
                Serial(transA, transB, rows, n, k, alpha, ai, lda, (float*)pb, ldb, beta, (float*)pc + i0 * ldc, ldc);
            });
            return;
        }
        long blocks = (n + 63) / 64;
        long columnGrain = Math.Max(1, SgemmDriver.MinWorkPerThread / (64L * m * k));
        CpuParallel.For(blocks, columnGrain, (s, e) =>
        {
            int j0 = (int)s * 64, cols = (int)Math.Min(e * 64, n) - j0;
            float* bj = (float*)pb + (transB ? j0 * ldb : j0);
            Serial(transA, transB, m, cols, k, alpha, (float*)pa, lda, bj, ldb, beta, (float*)pc + j0, ldc);
        });
    }

    /// <summary>
    /// Columns of C computed by every row before the next ones: B's k x 256 block (16 KB at k = 16) stays in L1
    /// while all the rows pass over it. Rows over all of a wide B read it from L2 once per row pair: LeNet's conv2
    /// data gradient (150 x 6976 x 16 per block of 109 images, AVX2, one thread) took 0.5-0.6 ms more per batch of
    /// 256 that way, slower than the packed driver it replaced.
    /// </summary>
    private const int ColumnTile = 256;

    private static void Serial(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        // Rows of op(A) must be contiguous: a transposed A is gathered into rows first (m k floats).
        var scratch = transA ? SgemmScratch.Rent() : null;
        try
        {
            if (transA)
            {
                float* rows = scratch!.Floats((long)m * k);
                SgemmPacking.GatherRows(a, lda, m, k, rows);
                a = rows;
                lda = k;
            }
            for (int j0 = 0; j0 < n; j0 += ColumnTile)
            {
                int cols = Math.Min(ColumnTile, n - j0);
                RowsTimesB(transB, m, cols, k, alpha, a, lda, b + (transB ? j0 * ldb : j0), ldb, beta, c + j0, ldc);
            }
        }
        finally
        {
            scratch?.Return();
        }
    }

    /// <summary>C = alpha * A B + beta * C, rows of A contiguous, <paramref name="lda"/> apart.</summary>
    private static void RowsTimesB(bool transB, int m, int n, int k, float alpha, float* a, nint lda, float* b,
        nint ldb, float beta, float* c, nint ldc)
    {
        int i = 0;
        if (!transB)
        {
            // Four rows at a time: sixteen independent FMA chains per 64 columns, and each row of B loaded once
            // for four rows of C. Two rows' eight chains only just cover the FMA latency, and every row pair
            // reloads B (256 x 256 x 10: 7.8 us for quads, 8.4 for pairs, 11.8 row by row).
            for (; TSimd.Width == 16 && i + 4 <= m; i += 4)
                RowQuadTimesB(a + i * lda, lda, n, k, alpha, b, ldb, beta, c + i * ldc, ldc);
            for (; i + 2 <= m; i += 2)
                RowPairTimesB(a + i * lda, lda, n, k, alpha, b, ldb, beta, c + i * ldc, ldc);
        }
        for (; i < m; i++)
        {
            if (transB) RowTimesBTransposed(a + i * lda, n, k, alpha, b, ldb, beta, c + i * ldc);
            else RowTimesB(a + i * lda, n, k, alpha, b, ldb, beta, c + i * ldc);
        }
    }

    /// <summary>
    /// Four rows of C (rows of A <paramref name="step"/> apart), as <see cref="RowTimesB"/> computes each: the same
    /// chains, the same order.
    /// </summary>
    private static void RowQuadTimesB(float* a, nint step, int n, int k, float alpha, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        float* a0 = a, a1 = a0 + step, a2 = a1 + step, a3 = a2 + step;
        // Decided once: the alpha and beta tests and broadcasts, repeated at every store, cost 20% at K = 10.
        bool plain = alpha == 1f && beta == 0f;
        int w = TSimd.Width, j = 0;
        for (; j + 4 * w <= n; j += 4 * w)
        {
            TV x0 = default, x1 = default, x2 = default, x3 = default;
            TV y0 = default, y1 = default, y2 = default, y3 = default;
            TV z0 = default, z1 = default, z2 = default, z3 = default;
            TV w0 = default, w1 = default, w2 = default, w3 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
            {
                TV b0 = TSimd.Load(bj), b1 = TSimd.Load(bj + w);
                TV b2 = TSimd.Load(bj + 2 * w), b3 = TSimd.Load(bj + 3 * w);
                TV u = TSimd.Broadcast(a0[p]), v = TSimd.Broadcast(a1[p]);
                x0 = TSimd.Fma(u, b0, x0);
                x1 = TSimd.Fma(u, b1, x1);
                x2 = TSimd.Fma(u, b2, x2);
                x3 = TSimd.Fma(u, b3, x3);
                y0 = TSimd.Fma(v, b0, y0);
                y1 = TSimd.Fma(v, b1, y1);
                y2 = TSimd.Fma(v, b2, y2);
                y3 = TSimd.Fma(v, b3, y3);
                u = TSimd.Broadcast(a2[p]);
                v = TSimd.Broadcast(a3[p]);
                z0 = TSimd.Fma(u, b0, z0);
                z1 = TSimd.Fma(u, b1, z1);
                z2 = TSimd.Fma(u, b2, z2);
                z3 = TSimd.Fma(u, b3, z3);
                w0 = TSimd.Fma(v, b0, w0);
                w1 = TSimd.Fma(v, b1, w1);
                w2 = TSimd.Fma(v, b2, w2);
                w3 = TSimd.Fma(v, b3, w3);
            }
            float* cj = c + j;
            StoreFour(cj, x0, x1, x2, x3, plain, alpha, beta);
            StoreFour(cj + ldc, y0, y1, y2, y3, plain, alpha, beta);
            StoreFour(cj + 2 * ldc, z0, z1, z2, z3, plain, alpha, beta);
            StoreFour(cj + 3 * ldc, w0, w1, w2, w3, plain, alpha, beta);
        }
        if (j < n)
            for (int r = 0; r < 4; r++)
                RowTimesB(a + r * step, n - j, k, alpha, b + j, ldb, beta, c + r * ldc + j);
    }

    /// <summary>Two rows of C (rows of A <paramref name="step"/> apart), as <see cref="RowQuadTimesB"/>.</summary>
    private static void RowPairTimesB(float* a, nint step, int n, int k, float alpha, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        float* a0 = a, a1 = a0 + step;
        bool plain = alpha == 1f && beta == 0f;
        int w = TSimd.Width, j = 0;
        for (; j + 4 * w <= n; j += 4 * w)
        {
            TV x0 = default, x1 = default, x2 = default, x3 = default;
            TV y0 = default, y1 = default, y2 = default, y3 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
            {
                TV b0 = TSimd.Load(bj), b1 = TSimd.Load(bj + w);
                TV b2 = TSimd.Load(bj + 2 * w), b3 = TSimd.Load(bj + 3 * w);
                TV u = TSimd.Broadcast(a0[p]), v = TSimd.Broadcast(a1[p]);
                x0 = TSimd.Fma(u, b0, x0);
                x1 = TSimd.Fma(u, b1, x1);
                x2 = TSimd.Fma(u, b2, x2);
                x3 = TSimd.Fma(u, b3, x3);
                y0 = TSimd.Fma(v, b0, y0);
                y1 = TSimd.Fma(v, b1, y1);
                y2 = TSimd.Fma(v, b2, y2);
                y3 = TSimd.Fma(v, b3, y3);
            }
            StoreFour(c + j, x0, x1, x2, x3, plain, alpha, beta);
            StoreFour(c + ldc + j, y0, y1, y2, y3, plain, alpha, beta);
        }
        if (j < n)
        {
            RowTimesB(a0, n - j, k, alpha, b + j, ldb, beta, c + j);
            RowTimesB(a1, n - j, k, alpha, b + j, ldb, beta, c + ldc + j);
        }
    }

    /// <summary>
    /// c[0:n] = alpha * a[0:k] * B + beta * c, B k x n: eight vectors of columns at a time down all of B's rows
    /// (eight FMA chains, enough to cover the FMA latency), then four. With four chains a batch-1 784 -> 256 layer
    /// with its weights in L2 ran at 0.88x of a plain read of them, with eight at 0.95x (Ice Lake-SP, Vector512).
    /// </summary>
    private static void RowTimesB(float* a, int n, int k, float alpha, float* b, nint ldb, float beta, float* c)
    {
        bool plain = alpha == 1f && beta == 0f;
        int w = TSimd.Width, j = 0;
        for (; j + 8 * w <= n; j += 8 * w)
        {
            TV c0 = default, c1 = default, c2 = default, c3 = default;
            TV c4 = default, c5 = default, c6 = default, c7 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
            {
                TV ap = TSimd.Broadcast(a[p]);
                c0 = TSimd.Fma(ap, TSimd.Load(bj), c0);
                c1 = TSimd.Fma(ap, TSimd.Load(bj + w), c1);
                c2 = TSimd.Fma(ap, TSimd.Load(bj + 2 * w), c2);
                c3 = TSimd.Fma(ap, TSimd.Load(bj + 3 * w), c3);
                c4 = TSimd.Fma(ap, TSimd.Load(bj + 4 * w), c4);
                c5 = TSimd.Fma(ap, TSimd.Load(bj + 5 * w), c5);
                c6 = TSimd.Fma(ap, TSimd.Load(bj + 6 * w), c6);
                c7 = TSimd.Fma(ap, TSimd.Load(bj + 7 * w), c7);
            }
            StoreFour(c + j, c0, c1, c2, c3, plain, alpha, beta);
            StoreFour(c + j + 4 * w, c4, c5, c6, c7, plain, alpha, beta);
        }
        for (; j + 4 * w <= n; j += 4 * w)
        {
            TV c0 = default, c1 = default, c2 = default, c3 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
            {
                TV ap = TSimd.Broadcast(a[p]);
                c0 = TSimd.Fma(ap, TSimd.Load(bj), c0);
                c1 = TSimd.Fma(ap, TSimd.Load(bj + w), c1);
                c2 = TSimd.Fma(ap, TSimd.Load(bj + 2 * w), c2);
                c3 = TSimd.Fma(ap, TSimd.Load(bj + 3 * w), c3);
            }
            StoreFour(c + j, c0, c1, c2, c3, plain, alpha, beta);
        }
        for (; j + w <= n; j += w)
        {
            TV c0 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
                c0 = TSimd.Fma(TSimd.Broadcast(a[p]), TSimd.Load(bj), c0);
            Store(c + j, c0, alpha, beta);
        }
        for (; j < n; j++)
        {
            float sum = 0f;
            for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(a[p], b[p * ldb + j], sum);
            c[j] = beta == 0f ? alpha * sum : MathF.FusedMultiplyAdd(sum, alpha, beta * c[j]);
        }
    }

    /// <summary>c[j] = alpha * dot(a, B row j) + beta * c[j], B n x k: four rows of B at a time.</summary>
    private static void RowTimesBTransposed(float* a, int n, int k, float alpha, float* b, nint ldb, float beta,
        float* c)
    {
        int w = TSimd.Width, j = 0;
        for (; j + 4 <= n; j += 4)
        {
            float* b0 = b + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            TV s0 = default, s1 = default, s2 = default, s3 = default;
            int p = 0;
            for (; p + w <= k; p += w)
            {
                TV ap = TSimd.Load(a + p);
                s0 = TSimd.Fma(ap, TSimd.Load(b0 + p), s0);
                s1 = TSimd.Fma(ap, TSimd.Load(b1 + p), s1);
                s2 = TSimd.Fma(ap, TSimd.Load(b2 + p), s2);
                s3 = TSimd.Fma(ap, TSimd.Load(b3 + p), s3);
            }
            float d0 = TSimd.Sum(s0), d1 = TSimd.Sum(s1), d2 = TSimd.Sum(s2), d3 = TSimd.Sum(s3);
            for (; p < k; p++)
            {
                d0 = MathF.FusedMultiplyAdd(a[p], b0[p], d0);
                d1 = MathF.FusedMultiplyAdd(a[p], b1[p], d1);
                d2 = MathF.FusedMultiplyAdd(a[p], b2[p], d2);
                d3 = MathF.FusedMultiplyAdd(a[p], b3[p], d3);
            }
            Store(c + j, d0, alpha, beta);
            Store(c + j + 1, d1, alpha, beta);
            Store(c + j + 2, d2, alpha, beta);
            Store(c + j + 3, d3, alpha, beta);
        }
        for (; j < n; j++)
        {
            float* bj = b + j * ldb;
            TV s = default;
            int p = 0;
            for (; p + w <= k; p += w)
                s = TSimd.Fma(TSimd.Load(a + p), TSimd.Load(bj + p), s);
            float d = TSimd.Sum(s);
            for (; p < k; p++) d = MathF.FusedMultiplyAdd(a[p], bj[p], d);
            Store(c + j, d, alpha, beta);
        }
    }

    /// <summary>
    /// Four vectors of sums into c: stored as they are when <paramref name="plain"/> (alpha 1, beta 0, where
    /// alpha * sum is sum bit for bit), otherwise through <see cref="Store(float*, TV, float, float)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFour(float* c, TV s0, TV s1, TV s2,
        TV s3, bool plain, float alpha, float beta)
    {
        if (plain)
        {
            int w = TSimd.Width;
            TSimd.Store(s0, c);
            TSimd.Store(s1, c + w);
            TSimd.Store(s2, c + 2 * w);
            TSimd.Store(s3, c + 3 * w);
        }
        else
        {
            int w = TSimd.Width;
            Store(c, s0, alpha, beta);
            Store(c + w, s1, alpha, beta);
            Store(c + 2 * w, s2, alpha, beta);
            Store(c + 3 * w, s3, alpha, beta);
        }
    }

    // The same update as the micro-kernels: alpha * sum, or fma(sum, alpha, beta * c); beta == 0 never reads c.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, TV sum, float alpha, float beta)
    {
        TV va = TSimd.Broadcast(alpha);
        if (beta == 0f) TSimd.Store(TSimd.Multiply(va, sum), c);
        else TSimd.Store(TSimd.Fma(sum, va, TSimd.Multiply(TSimd.Broadcast(beta), TSimd.Load(c))), c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, float sum, float alpha, float beta) =>
        *c = beta == 0f ? alpha * sum : MathF.FusedMultiplyAdd(sum, alpha, beta * *c);
}
