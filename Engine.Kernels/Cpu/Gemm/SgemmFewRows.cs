using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Float GEMM for a few rows of C (batch-1 to batch-8 inference: FullyConnected's x W^T with one to eight rows of
/// x) on every vector width, without packing: B, the weights, is streamed from memory once, where the packed path
/// would copy all of it to use each value m times. Both weight layouts:
/// <list type="bullet">
/// <item>B stored n x k (transB, FullyConnected's forward): dot products, four rows of B at a time against two
/// rows of A (eight accumulators, six loads for eight FMAs); the four B rows (4 k floats) stay in L1 while every
/// pair of A rows passes over them, so each weight is read from memory once whatever m is.</item>
/// <item>B stored k x n: rows of C built from B's rows, four vectors of columns for two rows of A at a time; each
/// k x 4W strip of B is read from memory once and from L1 or L2 by the other row pairs.</item>
/// </list>
/// Every element is summed in an order that depends only on k, never on m, the split or the thread count. Rows of
/// row-major B give exactly the micro-kernels' FMA chain; the dot products of transposed B sum W partial chains and
/// then the lanes, as <see cref="SgemmSmallM"/> does. Here m, n, k &gt; 0, alpha != 0.
/// </summary>
internal static unsafe partial class SgemmFewRows<TSimd, TV>
    where TSimd : ISimdFloat<TV>
    where TV : struct
{
    /// <summary>Columns of C (rows of transposed B) per parallel work item.</summary>
    private const int ColumnBlock = 64;

    /// <summary>
    /// Groups of four B rows ahead that <see cref="Dots"/> prefetches (12.5 KB at k = 784). Four contiguous rows
    /// are one stream the hardware follows, yet the dot products left it waiting between groups: streamed weights
    /// of a 784 -> 256 layer at 0.85 (one row of C) and 0.67-0.75 (four) of the read bandwidth, 0.92-0.98 and
    /// 0.86-0.93 with the next group prefetched, the lines spread over the row pairs' passes (Ice Lake-SP, AVX2
    /// and AVX-512). Two or four groups ahead measured no better.
    /// </summary>
    private const int DotPrefetchGroups = 1;

    /// <summary>Splits the columns of C across threads in blocks of 64; a column is computed alike anywhere.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        long blocks = (n + ColumnBlock - 1) / ColumnBlock;
        long grain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)ColumnBlock * m * k));
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        CpuParallel.For(blocks, grain, (s, e) =>
        {
            int j0 = (int)s * ColumnBlock, cols = (int)Math.Min(e * ColumnBlock, n) - j0;
            float* bj = (float*)pb + (transB ? j0 * ldb : j0);
            Serial(transA, transB, m, cols, k, alpha, (float*)pa, lda, bj, ldb, beta, (float*)pc + j0, ldc);
        });
    }

    private static void Serial(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        // Rows of op(A) must be contiguous: a transposed A is gathered into rows first (m k floats, a few KB).
        var scratch = transA ? SgemmScratch.Rent() : null;
        try
        {
            if (transA)
            {
                float* rows = scratch!.Floats((long)m * k);
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        rows[i * k + p] = a[p * lda + i];
                a = rows;
                lda = k;
            }
            if (transB) Dots(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            else Rows(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
        finally
        {
            scratch?.Return();
        }
    }

    /// <summary>C[i, j] = alpha * dot(A row i, B row j) + beta * C[i, j], B stored n x k.</summary>
    private static void Dots(int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        int j = 0;
        // Pass q over a group (row pair q, or the last single row) prefetches rows q, q + passes, ... of the group
        // DotPrefetchGroups ahead; none past the last group.
        int passes = (m + 1) / 2;
        for (; j + 4 <= n; j += 4)
        {
            float* bj = b + j * ldb;
            float* ahead = j + 4 * DotPrefetchGroups + 4 <= n ? bj + 4 * DotPrefetchGroups * ldb : null;
            int i = 0;
            for (; i + 2 <= m; i += 2)
                DotTile4x2(k, a + i * lda, lda, bj, ldb, c + i * ldc + j, ldc, alpha, beta, ahead, i / 2, passes);
            if (i < m) DotTile4x1(k, a + i * lda, bj, ldb, c + i * ldc + j, alpha, beta, ahead, i / 2, passes);
        }
        for (; j < n; j++)
        {
            for (int i = 0; i < m; i++)
                Put(c + i * ldc + j, Dot(k, a + i * lda, b + j * ldb), alpha, beta);
        }
    }

    /// <summary>
    /// Four rows of B against two rows of A: eight dot products. When <paramref name="ahead"/> is not null,
    /// prefetches rows first, first + step, ... below 4 of the group there, one cache line per 16 floats of k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile4x2(int k, float* a0, nint lda, float* b0, nint ldb, float* c, nint ldc,
        float alpha, float beta, float* ahead, int first, int step)
    {
        int w = TSimd.Width;
        float* a1 = a0 + lda, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        TV s00 = default, s01 = default, s02 = default, s03 = default;
        TV s10 = default, s11 = default, s12 = default, s13 = default;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            if (Sse.IsSupported && ahead != null && (p & 15) == 0)
            {
                for (int r = first; r < 4; r += step) Sse.Prefetch0(ahead + r * ldb + p);
            }
            TV x0 = TSimd.Load(a0 + p), x1 = TSimd.Load(a1 + p);
            TV y = TSimd.Load(b0 + p);
            s00 = TSimd.Fma(x0, y, s00);
            s10 = TSimd.Fma(x1, y, s10);
            y = TSimd.Load(b1 + p);
            s01 = TSimd.Fma(x0, y, s01);
            s11 = TSimd.Fma(x1, y, s11);
            y = TSimd.Load(b2 + p);
            s02 = TSimd.Fma(x0, y, s02);
            s12 = TSimd.Fma(x1, y, s12);
            y = TSimd.Load(b3 + p);
            s03 = TSimd.Fma(x0, y, s03);
            s13 = TSimd.Fma(x1, y, s13);
        }
        Put(c, Finish(TSimd.Sum(s00), a0, b0, p, k), alpha, beta);
        Put(c + 1, Finish(TSimd.Sum(s01), a0, b1, p, k), alpha, beta);
        Put(c + 2, Finish(TSimd.Sum(s02), a0, b2, p, k), alpha, beta);
        Put(c + 3, Finish(TSimd.Sum(s03), a0, b3, p, k), alpha, beta);
        Put(c + ldc, Finish(TSimd.Sum(s10), a1, b0, p, k), alpha, beta);
        Put(c + ldc + 1, Finish(TSimd.Sum(s11), a1, b1, p, k), alpha, beta);
        Put(c + ldc + 2, Finish(TSimd.Sum(s12), a1, b2, p, k), alpha, beta);
        Put(c + ldc + 3, Finish(TSimd.Sum(s13), a1, b3, p, k), alpha, beta);
    }

    /// <summary>Four rows of B against one row of A, summed as <see cref="DotTile4x2"/> sums each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile4x1(int k, float* a0, float* b0, nint ldb, float* c, float alpha, float beta,
        float* ahead, int first, int step)
    {
        int w = TSimd.Width;
        float* b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        TV s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            if (Sse.IsSupported && ahead != null && (p & 15) == 0)
            {
                for (int r = first; r < 4; r += step) Sse.Prefetch0(ahead + r * ldb + p);
            }
            TV x = TSimd.Load(a0 + p);
            s0 = TSimd.Fma(x, TSimd.Load(b0 + p), s0);
            s1 = TSimd.Fma(x, TSimd.Load(b1 + p), s1);
            s2 = TSimd.Fma(x, TSimd.Load(b2 + p), s2);
            s3 = TSimd.Fma(x, TSimd.Load(b3 + p), s3);
        }
        Put(c, Finish(TSimd.Sum(s0), a0, b0, p, k), alpha, beta);
        Put(c + 1, Finish(TSimd.Sum(s1), a0, b1, p, k), alpha, beta);
        Put(c + 2, Finish(TSimd.Sum(s2), a0, b2, p, k), alpha, beta);
        Put(c + 3, Finish(TSimd.Sum(s3), a0, b3, p, k), alpha, beta);
    }

    /// <summary>One dot product, summed as the tiles sum each of theirs.</summary>
    private static float Dot(int k, float* a, float* b)
    {
        int w = TSimd.Width;
        TV s = default;
        int p = 0;
        for (; p + w <= k; p += w) s = TSimd.Fma(TSimd.Load(a + p), TSimd.Load(b + p), s);
        return Finish(TSimd.Sum(s), a, b, p, k);
    }

    /// <summary>The scalar tail of a dot product, from <paramref name="p"/> to k, onto the vector part's sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float sum, float* a, float* b, int p, int k)
    {
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(a[p], b[p], sum);
        return sum;
    }

    /// <summary>C = A * B for B stored k x n: four rows of C at a time, two vectors of columns at a time.</summary>
    private static void Rows(int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        int w = TSimd.Width;
        int j = 0;
        if (m >= StreamedRows)
        {
            for (int i0 = 0; i0 < m; i0 += StreamMaxRows)
            {
                RowsStreamed(Math.Min(StreamMaxRows, m - i0), n / w * w, k, alpha, a + i0 * lda, lda, b, ldb, beta,
                    c + i0 * ldc, ldc);
            }
            j = n / w * w;
        }
        // Four vectors of columns (128 bytes of each B row with Vector256) for two rows of A at a time: B's rows are
        // read in runs of whole line pairs, which the prefetchers stream from memory; two-vector strips read each
        // row of B 64 bytes at a time, and streamed weights from memory at 0.5-0.7x the read bandwidth.
        for (; j + 4 * w <= n; j += 4 * w)
        {
            int i = 0;
            for (; i + 2 <= m; i += 2) RowTile2x4(k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, alpha, beta);
            if (i < m) RowTile1x4(k, a + i * lda, b + j, ldb, c + i * ldc + j, alpha, beta);
        }
        for (; j + 2 * w <= n; j += 2 * w)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4) RowTile4(k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, alpha, beta);
            for (; i < m; i++) RowTile1(k, a + i * lda, b + j, ldb, c + i * ldc + j, alpha, beta);
        }
        // Columns past the last whole pair of vectors: one FMA chain per element, in p order, as in the tiles.
        for (; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float* ai = a + i * lda;
                float sum = 0f;
                for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(ai[p], b[p * ldb + j], sum);
                Put(c + i * ldc + j, sum, alpha, beta);
            }
        }
    }

    /// <summary>Four rows of C by 2W columns: eight FMA chains down B's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTile4(int k, float* a0, nint lda, float* b, nint ldb, float* c, nint ldc, float alpha,
        float beta)
    {
        int w = TSimd.Width;
        float* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        TV x0 = default, x1 = default, y0 = default, y1 = default;
        TV z0 = default, z1 = default, u0 = default, u1 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            TV b0 = TSimd.Load(b), b1 = TSimd.Load(b + w);
            TV s = TSimd.Broadcast(a0[p]);
            x0 = TSimd.Fma(s, b0, x0);
            x1 = TSimd.Fma(s, b1, x1);
            s = TSimd.Broadcast(a1[p]);
            y0 = TSimd.Fma(s, b0, y0);
            y1 = TSimd.Fma(s, b1, y1);
            s = TSimd.Broadcast(a2[p]);
            z0 = TSimd.Fma(s, b0, z0);
            z1 = TSimd.Fma(s, b1, z1);
            s = TSimd.Broadcast(a3[p]);
            u0 = TSimd.Fma(s, b0, u0);
            u1 = TSimd.Fma(s, b1, u1);
        }
        PutRow(c, w, x0, x1, alpha, beta);
        PutRow(c + ldc, w, y0, y1, alpha, beta);
        PutRow(c + 2 * ldc, w, z0, z1, alpha, beta);
        PutRow(c + 3 * ldc, w, u0, u1, alpha, beta);
    }

    /// <summary>Two rows of C by 4W columns: eight FMA chains down B's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTile2x4(int k, float* a0, nint lda, float* b, nint ldb, float* c, nint ldc, float alpha,
        float beta)
    {
        int w = TSimd.Width;
        float* a1 = a0 + lda;
        TV x0 = default, x1 = default, x2 = default, x3 = default;
        TV y0 = default, y1 = default, y2 = default, y3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            TV b0 = TSimd.Load(b), b1 = TSimd.Load(b + w), b2 = TSimd.Load(b + 2 * w), b3 = TSimd.Load(b + 3 * w);
            TV s = TSimd.Broadcast(a0[p]);
            x0 = TSimd.Fma(s, b0, x0);
            x1 = TSimd.Fma(s, b1, x1);
            x2 = TSimd.Fma(s, b2, x2);
            x3 = TSimd.Fma(s, b3, x3);
            s = TSimd.Broadcast(a1[p]);
            y0 = TSimd.Fma(s, b0, y0);
            y1 = TSimd.Fma(s, b1, y1);
            y2 = TSimd.Fma(s, b2, y2);
            y3 = TSimd.Fma(s, b3, y3);
        }
        PutRow(c, w, x0, x1, alpha, beta);
        PutRow(c + 2 * w, w, x2, x3, alpha, beta);
        PutRow(c + ldc, w, y0, y1, alpha, beta);
        PutRow(c + ldc + 2 * w, w, y2, y3, alpha, beta);
    }

    /// <summary>One row of C by 4W columns: four FMA chains down B's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTile1x4(int k, float* a, float* b, nint ldb, float* c, float alpha, float beta)
    {
        int w = TSimd.Width;
        TV x0 = default, x1 = default, x2 = default, x3 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            TV s = TSimd.Broadcast(a[p]);
            x0 = TSimd.Fma(s, TSimd.Load(b), x0);
            x1 = TSimd.Fma(s, TSimd.Load(b + w), x1);
            x2 = TSimd.Fma(s, TSimd.Load(b + 2 * w), x2);
            x3 = TSimd.Fma(s, TSimd.Load(b + 3 * w), x3);
        }
        PutRow(c, w, x0, x1, alpha, beta);
        PutRow(c + 2 * w, w, x2, x3, alpha, beta);
    }

    /// <summary>One row of C by 2W columns: two FMA chains down B's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTile1(int k, float* a, float* b, nint ldb, float* c, float alpha, float beta)
    {
        int w = TSimd.Width;
        TV x0 = default, x1 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            TV s = TSimd.Broadcast(a[p]);
            x0 = TSimd.Fma(s, TSimd.Load(b), x0);
            x1 = TSimd.Fma(s, TSimd.Load(b + w), x1);
        }
        PutRow(c, w, x0, x1, alpha, beta);
    }

    // The same update as the micro-kernels: alpha * sum, or fma(sum, alpha, beta * c); beta == 0 never reads c.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutRow(float* c, int w, TV s0, TV s1, float alpha, float beta)
    {
        TV va = TSimd.Broadcast(alpha);
        if (beta == 0f)
        {
            TSimd.Store(TSimd.Multiply(va, s0), c);
            TSimd.Store(TSimd.Multiply(va, s1), c + w);
        }
        else
        {
            TV vb = TSimd.Broadcast(beta);
            TSimd.Store(TSimd.Fma(s0, va, TSimd.Multiply(vb, TSimd.Load(c))), c);
            TSimd.Store(TSimd.Fma(s1, va, TSimd.Multiply(vb, TSimd.Load(c + w))), c + w);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, float sum, float alpha, float beta) =>
        *c = beta == 0f ? alpha * sum : MathF.FusedMultiplyAdd(sum, alpha, beta * *c);
}
