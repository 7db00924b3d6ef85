using Engine.Memory;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The AVX-512 float GEMM: Goto's loops around <see cref="SgemmKernel6xN"/>, with A read where it lies. Inputs are
/// validated by <see cref="CpuGemm"/>; here m, n, k &gt; 0 and alpha != 0.
/// <code>
/// for jc in 0..n step NC:
///   for pc in 0..k step kc:          B[pc.., jc..] as slivers of up to 64 columns (packed; KC x NC stays in L2)
///     for ir in 0..m step 6:         the A sliver, 6 rows x kc, stays in L1 while ...
///       for each B sliver:           ... the kernel walks the B panel: C[6 x 16..64] = alpha A B + beta C
/// </code>
/// Packing A, as the classic algorithm does, copies m x k values to save nothing here: the kernel broadcasts A one
/// value at a time, and six rows of row-major A (or six columns of stored-transposed A) are as good a stream as a
/// packed sliver. Only stored-transposed A with long rows is packed, one sliver at a time, because its kc values
/// of a row lie lda apart and with a power-of-two lda they would share a few L1 sets. B is packed except where a
/// few rows of C would use it too few times to repay the copy.
/// </summary>
internal static unsafe class SgemmAvx512Driver
{
    /// <summary>
    /// Depth of one block. A 6 x 256 A sliver is 6 KB of L1, a 256 x 768 B panel 768 KB of the 2 MiB L2.
    /// </summary>
    internal static int KC = 256;

    /// <summary>Columns of one B panel.</summary>
    internal static int NC = 768;

    /// <summary>
    /// Stored-transposed A is read in place up to this lda: then the kc rows of an A sliver span at most
    /// kc * 256 bytes, consecutive and spread over the L1 sets.
    /// </summary>
    internal static int DirectTransposedLda = 64;

    /// <summary>
    /// Row-major B is read in place when C has at most this many rows: each B value is then used by at most
    /// two tiles, too few to repay copying it.
    /// </summary>
    internal static int DirectBRows = 12;

    /// <summary>
    /// Splits C into row strips (or column strips when C is short and wide) across threads, each running the whole
    /// serial algorithm on its part. The K blocks depend on k alone, so every element of C is summed in the same
    /// order whatever the split.
    /// </summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc)
    {
        int kBlocks = (k + KC - 1) / KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        // Read-in-place choices depend on the whole problem, not on a thread's part (they change no result bit).
        bool directA = !transA || lda <= DirectTransposedLda;
        bool directB = !transB && m <= DirectBRows;
        var plan = new Plan(transA, transB, kcMax, directA, directB);
        long work = (long)m * n * k;
        if (work < 2 * SgemmDriver.MinWorkPerThread || CpuParallel.MaxThreads == 1)
        {
            Serial(plan, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        const int mr = SgemmKernel6xN.MR, nr = SgemmPanelPacking.SliverColumns;
        int mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        if (mTiles >= nTiles)
        {
            long grain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)mr * n * k));
            CpuParallel.For(mTiles, grain, (s, e) =>
            {
                int r0 = (int)s * mr, rows = (int)Math.Min(e * mr, m) - r0;
                float* a0 = (float*)pa + (transA ? r0 : r0 * lda);
                Serial(plan, rows, n, k, alpha, a0, lda, (float*)pb, ldb, beta, (float*)pc + r0 * ldc, ldc);
            });
        }
        else
        {
            long grain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)m * nr * k));
            CpuParallel.For(nTiles, grain, (s, e) =>
            {
                int c0 = (int)s * nr, cols = (int)Math.Min(e * nr, n) - c0;
                float* b0 = (float*)pb + (transB ? c0 * ldb : c0);
                Serial(plan, m, cols, k, alpha, (float*)pa, lda, b0, ldb, beta, (float*)pc + c0, ldc);
            });
        }
    }

    /// <summary>How a whole problem is run: its layouts, its K block and what is read in place.</summary>
    private readonly record struct Plan(bool TransA, bool TransB, int KcMax, bool DirectA, bool DirectB);

    /// <summary>The loops on one thread.</summary>
    private static void Serial(Plan plan, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        const int mr = SgemmKernel6xN.MR, nr = SgemmPanelPacking.SliverColumns;
        int kcMax = plan.KcMax;
        bool transA = plan.TransA, transB = plan.TransB;
        int ncMax = Math.Min(NC, n);
        // Read in place, B still needs a packed copy of a ragged last sliver (its last vector would read past n).
        long packedB = plan.DirectB ? (n % 16 == 0 ? 0 : nr) : (ncMax + nr - 1) / nr * nr;
        // Packing buffers come from the pool: a fresh native block would be mapped and page-faulted in on every
        // call, which costs more than a small GEMM itself.
        using var bufferB = packedB > 0 ? CpuMemoryPool.Shared.Rent(packedB * kcMax * sizeof(float)) : null;
        using var bufferA = plan.DirectA ? null : CpuMemoryPool.Shared.Rent(((long)mr * kcMax + 8) * sizeof(float));
        float* packB = bufferB is null ? null : (float*)bufferB.Pointer;
        float* packA = bufferA is null ? null : (float*)bufferA.Pointer;
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                // The first K block applies beta; later blocks accumulate onto what it wrote.
                float betaBlock = pc == 0 ? beta : 1f;
                float* bBlock = b + (transB ? jc * ldb + pc : pc * ldb + jc);
                if (plan.DirectB)
                {
                    int ragged = nc % nr;
                    if (ragged % 16 != 0)
                        SgemmPanelPacking.PackSliverB(false, bBlock + (nc - ragged), ldb, kc, ragged, packB);
                }
                else
                {
                    SgemmPanelPacking.PackB(transB, bBlock, ldb, kc, nc, packB);
                }
                for (int ir = 0; ir < m; ir += mr)
                {
                    int rows = Math.Min(mr, m - ir);
                    // Element (i, p) of the A sliver is ap[i * rsA + p * csA].
                    float* ap = transA ? a + pc * lda + ir : a + ir * lda + pc;
                    nint rsA = transA ? 1 : lda, csA = transA ? lda : 1;
                    if (!plan.DirectA)
                    {
                        SgemmPanelPacking.PackTransposedA(ap, lda, rows, kc, packA);
                        ap = packA;
                        csA = mr;
                    }
                    float* ci = c + ir * ldc + jc;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        // Full vectors of B read in place; a packed sliver otherwise.
                        bool inPlace = plan.DirectB && cols % 16 == 0;
                        float* bp = inPlace ? bBlock + jr : plan.DirectB ? packB : packB + (nint)jr * kc;
                        nint csB = inPlace ? ldb : SgemmPanelPacking.SliverWidth(cols);
                        Tile(kc, ap, rsA, csA, bp, csB, ci + jr, ldc, rows, cols, alpha, betaBlock);
                    }
                }
            }
        }
    }

    /// <summary>One tile through the kernel as wide as its sliver.</summary>
    private static void Tile(int kc, float* a, nint rsA, nint csA, float* b, nint csB, float* c, nint ldc, int rows,
        int cols, float alpha, float beta)
    {
        switch ((cols + 15) >> 4)
        {
            case 4:
                SgemmKernel6xN.Run<SgemmWidth64>(kc, a, rsA, csA, b, csB, c, ldc, rows, cols, alpha, beta);
                break;
            case 3:
                SgemmKernel6xN.Run<SgemmWidth48>(kc, a, rsA, csA, b, csB, c, ldc, rows, cols, alpha, beta);
                break;
            case 2:
                SgemmKernel6xN.Run<SgemmWidth32>(kc, a, rsA, csA, b, csB, c, ldc, rows, cols, alpha, beta);
                break;
            default:
                SgemmKernel6xN.Run<SgemmWidth16>(kc, a, rsA, csA, b, csB, c, ldc, rows, cols, alpha, beta);
                break;
        }
    }
}
