namespace Engine.Kernels.Cpu;

/// <summary>
/// The packed float GEMM (Goto/BLIS) for machines without AVX-512 (<see cref="SgemmKernel6x2V{TSimd, TV}"/>: 6 x 16
/// with AVX2, 6 x 8 with Vector128; AVX-512 machines run <see cref="SgemmAvx512Driver"/>): five loops around a
/// register-blocked micro-kernel.
/// Inputs are validated by <see cref="CpuGemm"/>; here m, n, k &gt; 0 and alpha != 0.
/// <code>
/// for jc in 0..n step NC:
///   for pc in 0..k step KC:          pack op(B)[pc.., jc..] into NR-wide slivers (KC x NC, stays in L2)
///     for ic in 0..m step MC:        op(A)[ic.., pc..]: in place (packed only when far apart)
///       for ir in 0..MC step MR:     one A sliver (MR x KC) stays in L1
///         for jr in 0..NC step NR:   micro-kernel: C[MR x NR] = alpha * A sliver * B sliver + beta * C
/// </code>
/// The A sliver is the one kept in L1 (not BLIS's B sliver): the kernel streams B from L2, which measured as fast
/// as the BLIS order with a smaller KC, and 10% faster at 512 x 512 x 512 with AVX2. A is read where it lies (six
/// rows, or six columns of stored-transposed A), and packed only when stored transposed with a far leading
/// dimension, as in <see cref="SgemmAvx512Driver"/>.
/// </summary>
internal static unsafe class SgemmDriver
{
    /// <summary>
    /// Multiply-adds one thread must have before the work is split: 2^20 is about 2 MFLOP, some 20 us of one
    /// core, well above the few microseconds that waking a worker costs.
    /// </summary>
    internal const long MinWorkPerThread = 1L << 20;

    /// <summary>
    /// Splits C into column strips (or row strips, see <see cref="SplitColumns"/>) across threads, each running the
    /// whole serial algorithm on its part with its own packing buffers. Every element of C is summed in the same
    /// order whatever the split, so results do not depend on the thread count.
    /// </summary>
    public static void Run<TKernel>(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
        where TKernel : ISgemmMicroKernel
    {
        long work = (long)m * n * k;
        int threads = CpuParallel.MaxThreads;
        if (work < 2 * MinWorkPerThread || threads == 1)
        {
            Serial<TKernel>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        int mr = TKernel.MR, nr = TKernel.NR;
        int mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        if (!SplitColumns(m, n, mr, nr, threads))
        {
            long grain = Math.Max(1, MinWorkPerThread / ((long)mr * n * k));
            CpuParallel.For(mTiles, grain, (s, e) =>
            {
                int r0 = (int)s * mr, rows = (int)Math.Min(e * mr, m) - r0;
                float* a0 = (float*)pa + (transA ? r0 : r0 * lda);
                Serial<TKernel>(transA, transB, rows, n, k, alpha, a0, lda, (float*)pb, ldb, beta,
                    (float*)pc + r0 * ldc, ldc);
            });
        }
        else
        {
            long grain = Math.Max(1, MinWorkPerThread / ((long)m * nr * k));
            CpuParallel.For(nTiles, grain, (s, e) =>
            {
                int c0 = (int)s * nr, cols = (int)Math.Min(e * nr, n) - c0;
                float* b0 = (float*)pb + (transB ? c0 * ldb : c0);
                Serial<TKernel>(transA, transB, m, cols, k, alpha, (float*)pa, lda, b0, ldb, beta,
                    (float*)pc + c0, ldc);
            });
        }
    }

    /// <summary>
    /// Whether threads take column strips of C rather than row strips. Row strips each pack all of B, column
    /// strips only their share (A is read in place by both), and whole 16-column slivers divide evenly where 6-row
    /// tiles do not (256 rows are 43 tiles: 22 against 21, 3% idle; 256 columns are 16 slivers: 8 and 8). So
    /// column strips, unless they would be narrow (under <see cref="MinStripColumns"/> each: then every thread
    /// reads all of a tall A for few columns: then the wider side is split, as before) or leave more padded work on
    /// the busiest thread than row strips.
    /// </summary>
    internal static bool SplitColumns(int m, int n, int mr, int nr, int threads)
    {
        long mTiles = (m + mr - 1) / mr, nTiles = (n + nr - 1) / nr;
        if (n < MinStripColumns * threads) return mTiles < nTiles;
        long byRows = (mTiles + threads - 1) / threads * mr * n;
        long byColumns = (nTiles + threads - 1) / threads * nr * m;
        return byColumns <= byRows;
    }

    /// <summary>Fewest columns of C per thread for column strips (eight 16-column slivers).</summary>
    internal const int MinStripColumns = 128;

    /// <summary>The five loops on one thread.</summary>
    public static void Serial<TKernel>(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
        where TKernel : ISgemmMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        // Equal K blocks (k = 300 gives 150 + 150, not 256 + 44): the kernel's fixed cost per block is spread
        // evenly. The blocks depend on k alone, so every thread sums in the same order.
        int kcLimit = transA ? TKernel.KC : TKernel.KCRowMajorA;
        int ncBlock = transA ? TKernel.NC : TKernel.NCRowMajorA;
        int kBlocks = (k + kcLimit - 1) / kcLimit;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        int mcMax = Math.Min(TKernel.MC, RoundUp(m, mr));
        int ncMax = Math.Min(ncBlock, RoundUp(n, nr));
        bool directA = ReadsAInPlace<TKernel>(transA, lda, n);
        // Stored-transposed A that several column panels use (n > NC) is packed a whole K block at a time, once,
        // rather than once per column panel (see WholeKBlockLoops), unless that block is very large.
        bool wholeA = !directA && n > TKernel.NC && (long)RoundUp(m, mr) * kcMax <= MaxPackedAFloats;
        // A read in place needs no packed block.
        long floatsA = directA ? 0 : ((wholeA ? RoundUp(m, mr) : (long)mcMax) * kcMax + 15) & ~15L;
        var scratch = SgemmScratch.Rent();
        try
        {
            float* packA = scratch.Floats(floatsA + (long)ncMax * kcMax);
            if (wholeA)
            {
                WholeKBlockLoops<TKernel>(transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, kcMax, packA,
                    packA + floatsA);
            }
            else
            {
                Loops<TKernel>(transA, transB, directA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, kcMax, ncBlock,
                    packA, packA + floatsA);
            }
        }
        finally
        {
            scratch.Return();
        }
    }

    /// <summary>
    /// Whether the kernel reads A where it lies. Stored-transposed A is read in place only when near (see
    /// DirectTransposedLda), B fits one panel, and its rows do not alias in L1: each 6-column sliver of it spans kc
    /// lines, and re-reading those for every panel cost more than packing them (AVX2, TN 256 x 784 x 256:
    /// 0.54-0.73x OpenBLAS in place, 0.85-0.90x packed; 120 x 256 x 256: 1.03x in place, 0.94x packed). With lda a
    /// multiple of 64 floats the kc lines, 256 bytes or a multiple apart, fall in at most 16 of the 64 sets of a
    /// 48 KB L1 (12 ways: 192 lines for 256) and evict each other: TN 256 x 256 x 256 in place ran 0.74-0.76x
    /// OpenBLAS, packed 0.87-0.93x.
    /// </summary>
    private static bool ReadsAInPlace<TKernel>(bool transA, nint lda, int n)
        where TKernel : ISgemmMicroKernel =>
        !transA || (lda <= DirectTransposedLda && n <= TKernel.NC && lda % 64 != 0);

    /// <summary>
    /// Most floats of stored-transposed A packed at once by <see cref="WholeKBlockLoops{TKernel}"/>: 8 MB, all
    /// the rows of a K block of 256 up to m = 8192.
    /// </summary>
    internal const long MaxPackedAFloats = 1L << 21;

    private static void Loops<TKernel>(bool transA, bool transB, bool directA, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc, int kcMax, int ncBlock, float* packA,
        float* packB)
        where TKernel : ISgemmMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        float* edge = stackalloc float[mr * nr];
        for (int jc = 0; jc < n; jc += ncBlock)
        {
            int nc = Math.Min(ncBlock, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                // The first K block applies beta; later blocks accumulate onto what it wrote.
                float betaBlock = pc == 0 ? beta : 1f;
                SgemmPacking.PackB(transB, b + (transB ? jc * ldb + pc : pc * ldb + jc), ldb, kc, nc, nr, packB);
                for (int ic = 0; ic < m; ic += TKernel.MC)
                {
                    int mc = Math.Min(TKernel.MC, m - ic);
                    float* aBlock = a + (transA ? pc * lda + ic : ic * lda + pc);
                    // Element (i, p) of the block's rows is ap[i * rsA + p * csA]; row sliver t starts at ap + t * ts.
                    float* ap = aBlock;
                    nint rsA = transA ? 1 : lda, csA = transA ? lda : 1, ts = mr * rsA;
                    if (!directA)
                    {
                        SgemmPacking.PackA(true, aBlock, lda, mc, kc, mr, packA);
                        ap = packA;
                        rsA = 1;
                        csA = mr;
                        ts = (nint)mr * kc;
                    }
                    MacroKernel<TKernel>(mc, nc, kc, alpha, ap, rsA, csA, ts, packB, betaBlock, c + ic * ldc + jc,
                        ldc, edge);
                }
            }
        }
    }

    /// <summary>
    /// The loops for stored-transposed A used by several column panels: K blocks outermost, each packing all m rows
    /// of its A block once, then the column panels, each packing its B panel and running the A blocks from the
    /// packed rows. Column panels outermost (<see cref="Loops{TKernel}"/>) packed all of A once per panel, which
    /// cost as much as the rest of the packing: at 2048 x 2048 x 2048 four times A, 16 MB each from L3 or memory.
    /// Every element of C still sums its K blocks in order, so the bits are those of the other loops.
    /// </summary>
    private static void WholeKBlockLoops<TKernel>(bool transB, int m, int n, int k, float alpha, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc, int kcMax, float* packA, float* packB)
        where TKernel : ISgemmMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        float* edge = stackalloc float[mr * nr];
        for (int pc = 0; pc < k; pc += kcMax)
        {
            int kc = Math.Min(kcMax, k - pc);
            float betaBlock = pc == 0 ? beta : 1f;
            // Sliver t of the packed rows starts at packA + t * mr * kc, so the block of rows from ic at ic * kc.
            SgemmPacking.PackA(true, a + pc * lda, lda, m, kc, mr, packA);
            for (int jc = 0; jc < n; jc += TKernel.NC)
            {
                int nc = Math.Min(TKernel.NC, n - jc);
                SgemmPacking.PackB(transB, b + (transB ? jc * ldb + pc : pc * ldb + jc), ldb, kc, nc, nr, packB);
                for (int ic = 0; ic < m; ic += TKernel.MC)
                {
                    MacroKernel<TKernel>(Math.Min(TKernel.MC, m - ic), nc, kc, alpha, packA + (nint)ic * kc, 1, mr,
                        (nint)mr * kc, packB, betaBlock, c + ic * ldc + jc, ldc, edge);
                }
            }
        }
    }

    /// <summary>
    /// Stored-transposed A is read in place up to this lda, as <see cref="SgemmAvx512Driver.DirectTransposedLda"/>
    /// explains; past it, each A block is packed.
    /// </summary>
    internal const int DirectTransposedLda = 512;

    /// <summary>C[0:mc, 0:nc] = alpha * A block * packed B + beta * C, tile by tile.</summary>
    private static void MacroKernel<TKernel>(int mc, int nc, int kc, float alpha, float* a, nint rsA, nint csA,
        nint ts, float* packB, float beta, float* c, nint ldc, float* edge)
        where TKernel : ISgemmMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* ap = a + ir / mr * ts;
            for (int jr = 0; jr < nc; jr += nr)
            {
                int cols = Math.Min(nr, nc - jr);
                float* bp = packB + (nint)jr * kc;
                float* cp = c + ir * ldc + jr;
                if (rows == mr && cols == nr)
                {
                    TKernel.Run(kc, ap, rsA, csA, bp, cp, ldc, alpha, beta);
                }
                else
                {
                    // Edge tile: the kernel computes the padded tile into a scratch tile, and only the valid
                    // part reaches C, so C is never written (nor read) out of bounds.
                    TKernel.RunEdge(kc, rows, ap, rsA, csA, bp, edge);
                    StoreEdge(edge, nr, cp, ldc, rows, cols, alpha, beta);
                }
            }
        }
    }

    /// <summary>The micro-kernels' update rounded the same way, one element at a time.</summary>
    private static void StoreEdge(float* tile, int ldt, float* c, nint ldc, int rows, int cols, float alpha,
        float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * ldt;
            float* ci = c + i * ldc;
            if (beta == 0f)
            {
                for (int j = 0; j < cols; j++) ci[j] = alpha * t[j];
            }
            else
            {
                for (int j = 0; j < cols; j++) ci[j] = MathF.FusedMultiplyAdd(t[j], alpha, beta * ci[j]);
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
