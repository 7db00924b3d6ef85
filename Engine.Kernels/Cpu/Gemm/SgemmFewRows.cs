using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Float GEMM for a few rows of C (batch-1 to batch-8 inference: FullyConnected's x W^T with one to eight rows of
/// x) on every vector width, without packing: B, the weights, is streamed from memory once, where the packed path
/// would copy all of it to use each value m times. Both weight layouts:
/// <list type="bullet">
/// <item>B stored n x k (transB, FullyConnected's forward): dot products. One row of A takes eight rows of B at a
/// time (eight FMA chains, one load of A for eight of B); more take four rows of B against four rows of A with
/// Vector512 (sixteen accumulators) or two (eight, six loads for eight FMAs), the four B rows (4 k floats) staying
/// in L1 while every group of A rows passes over them, so each weight is read from memory once whatever m is.</item>
/// <item>B stored k x n: streamed whole rows at a time, eight rows of B in a block that every row of C passes
/// over while it is in L1 (<see cref="RowsStreamed"/>).</item>
/// </list>
/// Every element is summed in an order that depends only on k, never on m, the split or the thread count. Rows of
/// row-major B give exactly the micro-kernels' FMA chain; a dot product of transposed B sums W partial FMA chains,
/// then the lanes in <see cref="LaneSums"/>' fixed order, then FMAs over the k mod W last terms. Here m, n, k &gt; 0,
/// alpha != 0.
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
                SgemmPacking.GatherRows(a, lda, m, k, rows);
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
        if (m == 1)
        {
            // One row of A (batch-1 inference): eight rows of B at a time, unprefetched (see DotTile8x1).
            for (; j + 8 <= n; j += 8) DotTile8x1(k, a, b + j * ldb, ldb, c + j, alpha, beta);
        }
        for (; j + 4 <= n; j += 4)
        {
            float* bj = b + j * ldb;
            float* ahead = m > 1 && j + 4 * DotPrefetchGroups + 4 <= n ? bj + 4 * DotPrefetchGroups * ldb : null;
            RowsAgainstGroup(m, k, alpha, a, lda, bj, ldb, beta, c + j, ldc, ahead);
        }
        if (j < n && m > 1 && k <= PaddedTailMaxDepth)
        {
            DotsPaddedTail(m, n - j, k, alpha, a, lda, b + j * ldb, ldb, beta, c + j, ldc);
            return;
        }
        for (; j < n; j++)
        {
            for (int i = 0; i < m; i++)
                Put(c + i * ldc + j, Dot(k, a + i * lda, b + j * ldb), alpha, beta);
        }
    }

    /// <summary>
    /// Every row of A against four rows of B (C[0:m, 0:4]): with 32 registers four rows of A at a time (see
    /// DotTile4x4), then pairs, then a single row. Pass q over the group (one tile call) prefetches rows q, q +
    /// passes, ... of the group at <paramref name="ahead"/> (none when null).
    /// </summary>
    private static void RowsAgainstGroup(int m, int k, float alpha, float* a, nint lda, float* bj, nint ldb,
        float beta, float* c, nint ldc, float* ahead)
    {
        int quads = TSimd.Width == 16 ? m / 4 : 0;
        int passes = quads + (m - 4 * quads + 1) / 2;
        int i = 0, pass = 0;
        for (; pass < quads; i += 4, pass++)
            DotTile4x4(k, a + i * lda, lda, bj, ldb, c + i * ldc, ldc, alpha, beta, ahead, pass, passes);
        for (; i + 2 <= m; i += 2, pass++)
            DotTile4x2(k, a + i * lda, lda, bj, ldb, c + i * ldc, ldc, alpha, beta, ahead, pass, passes);
        if (i < m) DotTile4x1(k, a + i * lda, bj, ldb, c + i * ldc, alpha, beta, ahead, pass, passes);
    }

    /// <summary>Deepest k whose last rows of B <see cref="DotsPaddedTail"/> copies to the stack (32 KB).</summary>
    private const int PaddedTailMaxDepth = 2048;

    /// <summary>
    /// The last one to three rows of B (n mod 4) against every row of A, as one group of four: the rows copied with
    /// zero rows after them, the four-row tiles run over them into a tile of C on the stack, and each wanted sum
    /// stored as <see cref="Put"/> stores it. One dot product at a time (<see cref="Dot"/>) waited on its single FMA
    /// chain: a 256 x 10 x 256 product spent half its time on its last two columns. Each dot product keeps its
    /// chain, lane order and tail (the tiles sum each as Dot does), so the bits do not change.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotsPaddedTail(int m, int rest, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        const int rowsAtOnce = 64;
        float* group = stackalloc float[4 * k];
        for (int r = 0; r < 4; r++)
        {
            for (int p = 0; p < k; p++) group[r * k + p] = r < rest ? b[r * ldb + p] : 0f;
        }
        float* tile = stackalloc float[rowsAtOnce * 4];
        for (int i0 = 0; i0 < m; i0 += rowsAtOnce)
        {
            int rows = Math.Min(rowsAtOnce, m - i0);
            // alpha 1 and beta 0 store each sum as it is (1 * sum is sum, bit for bit).
            RowsAgainstGroup(rows, k, 1f, a + i0 * lda, lda, group, k, 0f, tile, 4, null);
            for (int r = 0; r < rows; r++)
            {
                for (int q = 0; q < rest; q++) Put(c + (i0 + r) * ldc + q, tile[r * 4 + q], alpha, beta);
            }
        }
    }

    /// <summary>
    /// Eight rows of B against one row of A: eight independent FMA chains (two FMA pipes of 4-cycle latency keep
    /// eight in flight), nine loads for eight FMAs, the eight sums finished together by <see cref="LaneSums"/>.
    /// Four rows' four chains held a 784 -> 256 layer whose weights stay in L2 to 0.86x (Vector256, AVX2) and 0.9x
    /// (Vector512) of a plain read of them; eight reach the read. Not prefetched: prefetching the next eight rows
    /// took one load slot per line, and with the weights in L2 cost 1.7-2.3x the time, where it gained only 4% on
    /// weights streamed from memory (Ice Lake-SP).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile8x1(int k, float* a, float* b0, nint ldb, float* c, float alpha, float beta)
    {
        int w = TSimd.Width;
        TV s0 = default, s1 = default, s2 = default, s3 = default;
        TV s4 = default, s5 = default, s6 = default, s7 = default;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            TV x = TSimd.Load(a + p);
            float* bp = b0 + p;
            s0 = TSimd.Fma(x, TSimd.Load(bp), s0);
            s1 = TSimd.Fma(x, TSimd.Load(bp + ldb), s1);
            s2 = TSimd.Fma(x, TSimd.Load(bp + 2 * ldb), s2);
            s3 = TSimd.Fma(x, TSimd.Load(bp + 3 * ldb), s3);
            s4 = TSimd.Fma(x, TSimd.Load(bp + 4 * ldb), s4);
            s5 = TSimd.Fma(x, TSimd.Load(bp + 5 * ldb), s5);
            s6 = TSimd.Fma(x, TSimd.Load(bp + 6 * ldb), s6);
            s7 = TSimd.Fma(x, TSimd.Load(bp + 7 * ldb), s7);
        }
        PutFour(c, Finish(LaneSums.Four(s0, s1, s2, s3), a, b0, ldb, p, k), alpha, beta);
        PutFour(c + 4, Finish(LaneSums.Four(s4, s5, s6, s7), a, b0 + 4 * ldb, ldb, p, k), alpha, beta);
    }

    /// <summary>
    /// Four rows of B against four rows of A, for Vector512 only (16 accumulators, 4 + 4 loads for 16 FMAs, 25 of
    /// the 32 registers; Vector256 has 16): half the loads per FMA of <see cref="DotTile4x2"/>, which held four rows
    /// of x with the weights in L2 to 0.44x of the FMA roof. Prefetches as DotTile4x2; summed as it sums each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile4x4(int k, float* a0, nint lda, float* b0, nint ldb, float* c, nint ldc,
        float alpha, float beta, float* ahead, int first, int step)
    {
        int w = TSimd.Width;
        float* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        TV s00 = default, s01 = default, s02 = default, s03 = default;
        TV s10 = default, s11 = default, s12 = default, s13 = default;
        TV s20 = default, s21 = default, s22 = default, s23 = default;
        TV s30 = default, s31 = default, s32 = default, s33 = default;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            if (Sse.IsSupported && ahead != null)
            {
                for (int r = first; r < 4; r += step) Sse.Prefetch0(ahead + r * ldb + p);
            }
            TV x0 = TSimd.Load(a0 + p), x1 = TSimd.Load(a1 + p), x2 = TSimd.Load(a2 + p), x3 = TSimd.Load(a3 + p);
            float* bp = b0 + p;
            TV y = TSimd.Load(bp);
            s00 = TSimd.Fma(x0, y, s00);
            s10 = TSimd.Fma(x1, y, s10);
            s20 = TSimd.Fma(x2, y, s20);
            s30 = TSimd.Fma(x3, y, s30);
            y = TSimd.Load(bp + ldb);
            s01 = TSimd.Fma(x0, y, s01);
            s11 = TSimd.Fma(x1, y, s11);
            s21 = TSimd.Fma(x2, y, s21);
            s31 = TSimd.Fma(x3, y, s31);
            y = TSimd.Load(bp + 2 * ldb);
            s02 = TSimd.Fma(x0, y, s02);
            s12 = TSimd.Fma(x1, y, s12);
            s22 = TSimd.Fma(x2, y, s22);
            s32 = TSimd.Fma(x3, y, s32);
            y = TSimd.Load(bp + 3 * ldb);
            s03 = TSimd.Fma(x0, y, s03);
            s13 = TSimd.Fma(x1, y, s13);
            s23 = TSimd.Fma(x2, y, s23);
            s33 = TSimd.Fma(x3, y, s33);
        }
        PutFour(c, Finish(LaneSums.Four(s00, s01, s02, s03), a0, b0, ldb, p, k), alpha, beta);
        PutFour(c + ldc, Finish(LaneSums.Four(s10, s11, s12, s13), a1, b0, ldb, p, k), alpha, beta);
        PutFour(c + 2 * ldc, Finish(LaneSums.Four(s20, s21, s22, s23), a2, b0, ldb, p, k), alpha, beta);
        PutFour(c + 3 * ldc, Finish(LaneSums.Four(s30, s31, s32, s33), a3, b0, ldb, p, k), alpha, beta);
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
        PutFour(c, Finish(LaneSums.Four(s00, s01, s02, s03), a0, b0, ldb, p, k), alpha, beta);
        PutFour(c + ldc, Finish(LaneSums.Four(s10, s11, s12, s13), a1, b0, ldb, p, k), alpha, beta);
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
        PutFour(c, Finish(LaneSums.Four(s0, s1, s2, s3), a0, b0, ldb, p, k), alpha, beta);
    }

    /// <summary>One dot product, summed as the tiles sum each of theirs.</summary>
    private static float Dot(int k, float* a, float* b)
    {
        int w = TSimd.Width;
        TV s = default;
        int p = 0;
        for (; p + w <= k; p += w) s = TSimd.Fma(TSimd.Load(a + p), TSimd.Load(b + p), s);
        float sum = LaneSums.One(s);
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(a[p], b[p], sum);
        return sum;
    }

    /// <summary>
    /// The scalar tails of four dot products (rows of B <paramref name="ldb"/> apart from <paramref name="b"/>),
    /// from <paramref name="p"/> to k, onto the vector parts' sums: each lane the FMA chain <see cref="Dot"/> runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Finish(Vector128<float> sums, float* a, float* b, nint ldb, int p, int k)
    {
        for (; p < k; p++)
        {
            float* bp = b + p;
            var column = Vector128.Create(bp[0], bp[ldb], bp[2 * ldb], bp[3 * ldb]);
            sums = Vector128.FusedMultiplyAdd(Vector128.Create(a[p]), column, sums);
        }
        return sums;
    }

    /// <summary>Four sums into c[0:4], as <see cref="Put"/> stores each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutFour(float* c, Vector128<float> sums, float alpha, float beta)
    {
        var va = Vector128.Create(alpha);
        if (beta == 0f) (va * sums).Store(c);
        else Vector128.FusedMultiplyAdd(sums, va, Vector128.Create(beta) * Vector128.Load(c)).Store(c);
    }

    /// <summary>
    /// C = A * B for B stored k x n: the whole vectors of columns streamed (<see cref="RowsStreamed"/>, eight rows
    /// of C at a time), the last columns one FMA chain per element, in p order, as in the tiles.
    /// </summary>
    private static void Rows(int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        int whole = n / TSimd.Width * TSimd.Width;
        if (whole > 0)
        {
            for (int i0 = 0; i0 < m; i0 += StreamMaxRows)
            {
                RowsStreamed(Math.Min(StreamMaxRows, m - i0), whole, k, alpha, a + i0 * lda, lda, b, ldb, beta,
                    c + i0 * ldc, ldc);
            }
        }
        for (int j = whole; j < n; j++)
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
