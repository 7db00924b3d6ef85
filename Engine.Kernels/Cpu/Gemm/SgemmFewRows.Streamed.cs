using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

internal static unsafe partial class SgemmFewRows<TSimd, TV>
{
    /// <summary>
    /// Rows of C from which <see cref="RowsStreamed"/> prefetches B. With one row of C the prefetches took a load
    /// slot per line of B for eight FMAs, and cost more than they gave: a batch-1 784 -> 256 layer (Vector256) ran
    /// at 0.56x of a plain read with its weights in L2 and 0.91x of the read bandwidth from memory with them, 0.87x
    /// and 0.87x without (Ice Lake-SP); with four rows they gave 0.95x against 0.67x from memory for 0.23x against
    /// 0.28x in L2, where four rows are bound by their FMAs anyway. Two rows are not measured and take the single
    /// row's choice.
    /// </summary>
    private const int PrefetchRows = 3;

    /// <summary>Most rows of C per call of <see cref="RowsStreamed"/> (its buffer of sums holds eight).</summary>
    private const int StreamMaxRows = 8;

    /// <summary>Columns of C per pass of <see cref="RowsStreamed"/>: 8 rows of sums in 8 KB.</summary>
    private const int StreamChunk = 256;

    /// <summary>Rows of B per block of <see cref="RowsStreamed"/>: 8 KB of B at 256 columns, kept in L1.</summary>
    private const int StreamDepth = 8;

    /// <summary>
    /// Blocks ahead that <see cref="RowsStreamed"/> prefetches B (16 KB at 256 columns). The hardware prefetchers
    /// see eight short streams per block that start over at every 4 KB page, and left the weights at 0.6x the read
    /// bandwidth with four rows of C (Ice Lake-SP, AVX2 and AVX-512 alike); prefetching two blocks ahead, the
    /// lines spread over every row's pass so that the loads keep coming while the sums are computed, gave
    /// 0.86-0.93x. One block ahead gave 0.89-0.90 spread, 0.67-0.69 all in the first pass; four, 0.66.
    /// </summary>
    private const int PrefetchBlocks = 2;

    /// <summary>
    /// C = A * B for B stored k x n, 1 to 8 rows, <paramref name="n"/> a multiple of the vector width. The strips
    /// of <see cref="Rows"/> read each row of B a few cache lines at a time, 1 KB apart for a 256-wide layer: with
    /// four rows of C that streamed the weights at only 0.5x the read bandwidth. Here B is read whole rows at a
    /// time, eight rows in a block (eight sequential streams), and every row of C passes over the block while it
    /// is in L1; the sums wait in a small buffer between blocks. Each element's FMA chain still runs p = 0..k-1 in
    /// order from zero, so the bits are those of the tiles.
    /// </summary>
    private static void RowsStreamed(int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        int w = TSimd.Width;
        float* sums = stackalloc float[StreamMaxRows * StreamChunk];
        for (int j0 = 0; j0 < n; j0 += StreamChunk)
        {
            int cols = Math.Min(StreamChunk, n - j0);
            new Span<float>(sums, m * StreamChunk).Clear();
            int p = 0;
            for (; p + StreamDepth <= k; p += StreamDepth)
            {
                // The block PrefetchBlocks ahead: pass i prefetches its rows i, i + m, ... (none past B's end).
                float* ahead = m >= PrefetchRows && p + (PrefetchBlocks + 1) * StreamDepth <= k
                    ? b + (p + PrefetchBlocks * StreamDepth) * ldb + j0
                    : null;
                for (int i = 0; i < m; i++)
                    StreamBlock8(cols, a + i * lda + p, b + p * ldb + j0, ldb, sums + i * StreamChunk, ahead, i, m);
            }
            for (; p < k; p++)
            {
                for (int i = 0; i < m; i++)
                    StreamBlock1(cols, a[i * lda + p], b + p * ldb + j0, sums + i * StreamChunk);
            }
            for (int i = 0; i < m; i++)
            {
                float* row = sums + i * StreamChunk, ci = c + i * ldc + j0;
                int jj = 0;
                for (; jj + 2 * w <= cols; jj += 2 * w)
                    PutRow(ci + jj, w, TSimd.Load(row + jj), TSimd.Load(row + jj + w), alpha, beta);
                for (; jj < cols; jj++) Put(ci + jj, row[jj], alpha, beta);
            }
        }
    }

    /// <summary>
    /// One row of sums over eight rows of B: eight FMAs per vector, in p order. When <paramref name="ahead"/> is
    /// not null, prefetches rows first, first + step, ... below 8 of the block there, one cache line per 16 columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamBlock8(int cols, float* a, float* b, nint ldb, float* sums, float* ahead, int first,
        int step)
    {
        int w = TSimd.Width;
        TV s0 = TSimd.Broadcast(a[0]), s1 = TSimd.Broadcast(a[1]), s2 = TSimd.Broadcast(a[2]);
        TV s3 = TSimd.Broadcast(a[3]), s4 = TSimd.Broadcast(a[4]), s5 = TSimd.Broadcast(a[5]);
        TV s6 = TSimd.Broadcast(a[6]), s7 = TSimd.Broadcast(a[7]);
        for (int j = 0; j < cols; j += w)
        {
            float* bj = b + j;
            if (Sse.IsSupported && ahead != null && (j & 15) == 0)
            {
                for (int r = first; r < StreamDepth; r += step) Sse.Prefetch0(ahead + r * ldb + j);
            }
            TV x = TSimd.Load(sums + j);
            x = TSimd.Fma(s0, TSimd.Load(bj), x);
            x = TSimd.Fma(s1, TSimd.Load(bj + ldb), x);
            x = TSimd.Fma(s2, TSimd.Load(bj + 2 * ldb), x);
            x = TSimd.Fma(s3, TSimd.Load(bj + 3 * ldb), x);
            x = TSimd.Fma(s4, TSimd.Load(bj + 4 * ldb), x);
            x = TSimd.Fma(s5, TSimd.Load(bj + 5 * ldb), x);
            x = TSimd.Fma(s6, TSimd.Load(bj + 6 * ldb), x);
            x = TSimd.Fma(s7, TSimd.Load(bj + 7 * ldb), x);
            TSimd.Store(x, sums + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamBlock1(int cols, float a, float* b, float* sums)
    {
        int w = TSimd.Width;
        TV s = TSimd.Broadcast(a);
        for (int j = 0; j < cols; j += w) TSimd.Store(TSimd.Fma(s, TSimd.Load(b + j), TSimd.Load(sums + j)), sums + j);
    }
}
