namespace Engine.Kernels.Cpu;

/// <summary>
/// The AVX-512 float GEMM: Goto's loops around <see cref="SgemmKernel6xN"/>, reading A (and row-major B) where it
/// lies. Inputs are validated by <see cref="CpuGemm"/>; here m, n, k &gt; 0 and alpha != 0.
/// <code>
/// for jc in 0..n step NC (NCPackedA when A is packed):
///   for pc in 0..k step kc:            B[pc.., jc..]: slivers of up to 64 columns, packed or in place
///     for ic in 0..m step MC:          A[ic.., pc..]: in place, or packed when stored transposed far apart
///       deep block (kc &gt; 128):        for each 6-row A sliver (in L1), for each B sliver (B panel in L2): tile
///       shallow block (kc &lt;= 128):     for each B sliver (in L1): every 6-row tile of the block in one call
/// </code>
/// The classic algorithm packs A too, but here that copies m x k values to save nothing: the kernel broadcasts A
/// one value at a time, and six rows of row-major A (or six columns of stored-transposed A) are as good a stream as
/// a packed sliver. Packing is kept only where the memory layout would hurt (see <see cref="DirectTransposedLda"/>
/// and <see cref="DirectBLdb"/>) and for stored-transposed B, which the kernel cannot read in rows. Slivers are
/// only as wide as their columns need (16, 32, 48 or 64), so a 10-column C costs a 16-column kernel, not 64.
/// Every element of C is summed in the same order whatever the path, split or thread count.
/// </summary>
internal static unsafe class SgemmAvx512Driver
{
    /// <summary>
    /// Depth of one block. A 6 x 512 A sliver is 12 KB of the 48 KB L1 and a 512 x 384 B panel 768 KB of the 2 MiB
    /// L2. Deep blocks matter most when C is large: every K block reads and writes all of C once more, and at 2048
    /// that traffic goes to memory (KC 128 lost 15%, 256 about 4%). Measured on a 2 MiB-L2 Xeon: KC 512 with NC
    /// 384 to 512 were best; NC 768 lost 5% and KC 512 x NC 1024 (a 2 MiB panel) more.
    /// </summary>
    internal const int KC = 512;

    /// <summary>Columns of one B panel (a multiple of 64: only the last sliver of C may be narrow).</summary>
    internal const int NC = 384;

    /// <summary>
    /// Columns of one B panel when A is packed (stored transposed, lda past <see cref="DirectTransposedLda"/>). A is
    /// packed again for every panel, so wider panels pack it fewer times; a 512 x 512 panel (1 MB) still sits in
    /// L2. At 1024 x 1024 x 1024 TN: 7.7-8.0 ms at 2 threads with 384 columns (three panels), 7.1-7.5 with 512.
    /// Read in place, A costs nothing per panel, and 384 stays a little faster (NN 13.3 ms against 13.5-13.7).
    /// </summary>
    internal const int NCPackedA = 512;

    /// <summary>
    /// Stored-transposed A is read in place up to this lda: the kernel then reads one row of A per k step, at most
    /// 2 KB apart, a stride the L1 prefetcher follows. Past it (lda 1024 and up, a 4 KB stride) the rows also
    /// share a few L1 sets, and A is packed instead, a block of rows at a time. So is A whose lda is a multiple of
    /// 64 floats (256 bytes or a multiple): the kc rows of a sliver then fall in at most 16 of the 64 sets of a
    /// 48 KB L1 (2 sets at lda 512) and evict each other, so the sliver that should stay in L1 across the B
    /// slivers is re-read from L2 (interleaved with OpenBLAS, 1 thread: TN 256 1.06-1.09x -> 1.19-1.23x its speed,
    /// TN 512 0.67-0.78x -> 0.77-0.87x, the MLP's 256 x 784 x 256 weight gradient 0.92x -> 1.07-1.09x).
    /// </summary>
    internal const int DirectTransposedLda = 512;

    /// <summary>
    /// Row-major B is read in place while its rows are less than this many floats apart (4 KB): a kc x 64 sliver
    /// is then as good a stream as a packed one, and packing it would copy k x n values for nothing. From 4 KB on,
    /// each row is another page and the rows share a few L1 and L2 sets, which packing avoids.
    /// </summary>
    internal const int DirectBLdb = 1024;

    /// <summary>
    /// Row-major B is read in place whatever its stride when C has at most this many rows: each B value is then
    /// used by at most two tiles, too few to repay copying it.
    /// </summary>
    internal const int DirectBRows = 12;

    /// <summary>K blocks up to this deep run B sliver by B sliver (64 x 128 floats is 32 KB of L1).</summary>
    internal const int RowsInnerDepth = 128;

    /// <summary>
    /// Rows of A per block (a multiple of 6): in a shallow block they stream past each B sliver, 252 x 128 floats
    /// (126 KB) from L2; a packed A block is 252 x 512 floats, 504 KB.
    /// </summary>
    internal const int MC = 252;

    /// <summary>
    /// Runs one GEMM, split into row or column strips across threads when it is large enough (see
    /// <see cref="RunParallel"/>), each strip running the whole serial algorithm. The K blocks depend on k alone, so
    /// every element of C is summed in the same order whatever the split.
    /// </summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc)
    {
        int kBlocks = (k + KC - 1) / KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        // Read-in-place choices depend on the whole problem, not on a thread's part (they change no result bit).
        bool directA = !transA || (lda <= DirectTransposedLda && lda % 64 != 0);
        bool directB = !transB && (ldb < DirectBLdb || m <= DirectBRows);
        var plan = new Plan(transA, transB, kcMax, directA, directB);
        long work = (long)m * n * k;
        if (work < 2 * SgemmDriver.MinWorkPerThread || CpuParallel.MaxThreads == 1)
        {
            Serial(plan, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        RunParallel(plan, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Packing costs about a third of a cycle per value and the kernel 1/32 of a cycle per multiply-add, so packing
    /// one operand in full costs this many divided by the other dimension (m for B, n for A) of the whole product.
    /// </summary>
    private const double PackCost = 32.0 / 3;

    /// <summary>
    /// Splits C by rows or by columns, whichever costs the slowest thread less: a row split packs all of B in every
    /// thread (when B is packed), a column split all of A, and a column split works in whole 64-column slivers.
    /// </summary>
    private static void RunParallel(Plan plan, int m, int n, int k, float alpha, float* a, nint lda, float* b,
        nint ldb, float beta, float* c, nint ldc)
    {
        const int mr = SgemmKernel6xN.MR, nr = SgemmPanelPacking.SliverColumns;
        int mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr;
        long rowGrain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)mr * n * k));
        long colGrain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)m * nr * k));
        int rowParts = Parts(mTiles, rowGrain), colParts = Parts(nTiles, colGrain);
        double rowCost = (double)((mTiles + rowParts - 1) / rowParts) / mTiles + (plan.DirectB ? 0 : PackCost / m);
        double colCost = LargestPart(n, nTiles, colParts) + (plan.DirectA ? 0 : PackCost / n);
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        bool transA = plan.TransA, transB = plan.TransB;
        if (rowCost <= colCost)
        {
            CpuParallel.For(mTiles, rowGrain, (s, e) =>
            {
                int r0 = (int)s * mr, rows = (int)Math.Min(e * mr, m) - r0;
                float* a0 = (float*)pa + (transA ? r0 : r0 * lda);
                Serial(plan, rows, n, k, alpha, a0, lda, (float*)pb, ldb, beta, (float*)pc + r0 * ldc, ldc);
            });
        }
        else
        {
            CpuParallel.For(nTiles, colGrain, (s, e) =>
            {
                int c0 = (int)s * nr, cols = (int)Math.Min(e * nr, n) - c0;
                float* b0 = (float*)pb + (transB ? c0 * ldb : c0);
                Serial(plan, m, cols, k, alpha, (float*)pa, lda, b0, ldb, beta, (float*)pc + c0, ldc);
            });
        }
    }

    /// <summary>How many chunks CpuParallel.For makes of <paramref name="count"/> items.</summary>
    private static int Parts(int count, long grain) =>
        (int)Math.Max(1, Math.Min(CpuParallel.MaxThreads, count / grain));

    /// <summary>
    /// The share of the kernel work (in 16-column vectors) of the largest of <paramref name="parts"/> contiguous
    /// runs of 64-column slivers, as CpuParallel.For cuts them.
    /// </summary>
    private static double LargestPart(int n, int slivers, int parts)
    {
        int total = (n + 15) / 16, largest = 0;
        for (int p = 0; p < parts; p++)
        {
            int first = (int)((long)slivers * p / parts) * 64;
            int end = (int)Math.Min((long)slivers * (p + 1) / parts * 64, n);
            largest = Math.Max(largest, (end + 15) / 16 - first / 16);
        }
        return (double)largest / total;
    }

    /// <summary>How a whole problem is run: its layouts, its K block and what is read in place.</summary>
    private readonly record struct Plan(bool TransA, bool TransB, int KcMax, bool DirectA, bool DirectB)
    {
        /// <summary>Columns of one B panel (<see cref="NC"/>, or <see cref="NCPackedA"/> when A is packed).</summary>
        public int Nc => DirectA ? NC : NCPackedA;
    }

    /// <summary>The loops on one thread.</summary>
    private static void Serial(Plan plan, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        const int mr = SgemmKernel6xN.MR, nr = SgemmPanelPacking.SliverColumns;
        int kcMax = plan.KcMax;
        int ncMax = Math.Min(plan.Nc, n);
        // Read in place, B still needs a packed copy of a ragged last sliver (its last vector would read past n).
        long packedB = plan.DirectB ? (n % 16 == 0 ? 0 : nr) : (ncMax + nr - 1) / nr * nr;
        long packedA = plan.DirectA ? 0
            : (long)(Math.Min(MC, m) + mr - 1) / mr * SgemmPanelPacking.TransposedASliverStride(kcMax);
        long floatsB = (packedB * kcMax + 15) & ~15L;
        var scratch = SgemmScratch.Rent();
        try
        {
            float* packB = scratch.Floats(floatsB + packedA);
            Loops(plan, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, packB, packB + floatsB);
        }
        finally
        {
            scratch.Return();
        }
    }

    /// <summary>The loops of the class summary, with the packing buffers in hand.</summary>
    private static void Loops(Plan plan, int m, int n, int k, float alpha, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc, float* packB, float* packA)
    {
        const int mr = SgemmKernel6xN.MR, nr = SgemmPanelPacking.SliverColumns;
        int kcMax = plan.KcMax;
        bool transA = plan.TransA, transB = plan.TransB;
        for (int jc = 0; jc < n; jc += plan.Nc)
        {
            int nc = Math.Min(plan.Nc, n - jc);
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
                // Element (i, p) of op(A) is aBlock[i * rsA + p * csA].
                float* aBlock = transA ? a + pc * lda : a + pc;
                nint rsA = transA ? 1 : lda, csA = transA ? lda : 1;
                bool rowsInner = kc <= RowsInnerDepth;
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    // The A block: in place, or packed as slivers (the sliver of rows 6t.. at ap + t * tsA).
                    float* ap = aBlock + ic * rsA;
                    nint rs = rsA, cs = csA, ts = mr * rsA;
                    if (!plan.DirectA)
                    {
                        SgemmPanelPacking.PackTransposedA(ap, lda, mc, kc, packA);
                        ap = packA;
                        rs = 1;
                        cs = mr;
                        ts = SgemmPanelPacking.TransposedASliverStride(kc);
                    }
                    float* cBlock = c + ic * ldc + jc;
                    if (rowsInner)
                    {
                        // Shallow blocks: each B sliver (kc x 64, at most 32 KB) stays in L1 while the block's rows
                        // of A stream past it, and one kernel call covers them all.
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            Sliver(plan, packB, bBlock, ldb, kc, jr, cols, out float* bp, out nint csB);
                            Panel(kc, mc, ap, rs, cs, ts, bp, csB, cBlock + jr, ldc, cols, alpha, betaBlock);
                        }
                        continue;
                    }
                    // Deep blocks: one A sliver (6 x kc) stays in L1 while the kernel walks the B panel in L2.
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int rows = Math.Min(mr, mc - ir);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            Sliver(plan, packB, bBlock, ldb, kc, jr, cols, out float* bp, out nint csB);
                            Panel(kc, rows, ap + ir / mr * ts, rs, cs, ts, bp, csB, cBlock + ir * ldc + jr, ldc, cols,
                                alpha, betaBlock);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Where the B sliver of columns jr.. lies: in place (whole vectors of row-major B) or packed.</summary>
    private static void Sliver(Plan plan, float* packB, float* bBlock, nint ldb, int kc, int jr, int cols,
        out float* bp, out nint csB)
    {
        bool inPlace = plan.DirectB && cols % 16 == 0;
        bp = inPlace ? bBlock + jr : plan.DirectB ? packB : packB + (nint)jr * kc;
        csB = inPlace ? ldb : SgemmPanelPacking.SliverWidth(cols);
    }

    /// <summary>Rows of C down one B sliver through the kernel as wide as the sliver.</summary>
    private static void Panel(int kc, int m, float* a, nint rsA, nint csA, nint tsA, float* b, nint csB, float* c,
        nint ldc, int cols, float alpha, float beta)
    {
        switch ((cols + 15) >> 4)
        {
            case 4:
                SgemmKernel6xN.Run<SgemmWidth64>(kc, m, a, rsA, csA, tsA, b, csB, c, ldc, cols, alpha, beta);
                break;
            case 3:
                SgemmKernel6xN.Run<SgemmWidth48>(kc, m, a, rsA, csA, tsA, b, csB, c, ldc, cols, alpha, beta);
                break;
            case 2:
                SgemmKernel6xN.Run<SgemmWidth32>(kc, m, a, rsA, csA, tsA, b, csB, c, ldc, cols, alpha, beta);
                break;
            default:
                SgemmKernel6xN.Run<SgemmWidth16>(kc, m, a, rsA, csA, tsA, b, csB, c, ldc, cols, alpha, beta);
                break;
        }
    }
}
