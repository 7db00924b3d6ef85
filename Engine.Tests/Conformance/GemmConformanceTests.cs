using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class GemmConformanceTests(Device device) : DeviceFixture(device)
{
    /// <summary>
    /// Float32 GEMM against the double reference. A sum of k products of values in [-1, 1] runs through partial
    /// sums of size about sqrt(k) / 3 even when the result is near zero, so the absolute error of a near-zero
    /// output grows like k * 2^-24 rather than staying at Float32Sum's fixed 1e-5 floor (which fits k &lt;= 128).
    /// </summary>
    private static Tolerance Float32Gemm(int k) => Tolerances.Float32Gemm(k);

    /// <summary>
    /// Every float implementation; each runs wherever the machine's vectors are at least as wide as its own, so an
    /// AVX-512 machine tests all of them and an AVX2 machine all but the Vector512 ones (the ConformancePaths target
    /// also forces the narrower paths onto Auto).
    /// </summary>
    public static IEnumerable<string> Kernels =>
        [
            "Auto", "Avx512", "Avx2", "Vector128", "SmallM512", "SmallM256", "FewRows512", "FewRows256",
            "FewRows128", "Generic",
        ];

    /// <summary>The packed drivers and the unpacked paths that take any shape, for the driver-path shapes.</summary>
    public static IEnumerable<string> DriverKernels => ["Avx512", "Avx2", "Vector128", "FewRows256", "Auto"];

    public static IEnumerable<string> GoldenCases => Golden.CaseNames("gemm");

    private static readonly (int M, int N, int K)[] FixedShapes =
    [
        (1, 1, 1), (17, 33, 65), (127, 1, 17), (33, 65, 1), (65, 127, 33), (1, 127, 127), (7, 13, 5), (6, 64, 3),
    ];

    private static readonly int[] Sizes = [1, 2, 5, 17, 33, 65, 127];

    private static readonly (double Alpha, double Beta)[] Scalings = [(1, 0), (1, 1), (-0.75, 0.5), (2.5, 0)];

    [Test]
    public void FloatMatchesReferenceOnRandomShapes([Values] bool transA, [Values] bool transB,
        [ValueSource(nameof(Kernels))] string kernel)
    {
        var choice = Choose(kernel);
        var rng = new Random(HashCode.Combine(transA, transB, kernel.Length) & 0xffff);
        foreach (var (m, n, k) in Shapes(rng))
        {
            var (alpha, beta) = Scalings[rng.Next(Scalings.Length)];
            CheckFloat(choice, rng, transA, transB, m, n, k, (float)alpha, (float)beta, rng.Next(3), rng.Next(3),
                rng.Next(3));
        }
    }

    [Test]
    public void DoubleMatchesReferenceOnRandomShapes([Values] bool transA, [Values] bool transB)
    {
        var rng = new Random(100 + (transA ? 2 : 0) + (transB ? 1 : 0));
        foreach (var (m, n, k) in Shapes(rng))
        {
            var (alpha, beta) = Scalings[rng.Next(Scalings.Length)];
            CheckDouble(rng, transA, transB, m, n, k, alpha, beta, rng.Next(3), rng.Next(3), rng.Next(3));
        }
    }

    [Test]
    public void FloatCrossesEveryBlockAndThreadSplit([ValueSource(nameof(Kernels))] string kernel)
    {
        // 150 > MC rows, 800 > NC columns, 300 > KC depth (two K blocks, the second accumulating onto the first);
        // the first shape splits threads by rows, the second (short and wide) by columns.
        var choice = Choose(kernel);
        var rng = new Random(7);
        CheckFloat(choice, rng, false, true, 150, 800, 300, 1f, 0f, 0, 3, 1);
        CheckFloat(choice, rng, true, false, 20, 800, 300, 0.5f, 1f, 1, 0, 0);
    }

    [Test]
    public void DoubleCrossesEveryBlock()
    {
        var rng = new Random(8);
        CheckDouble(rng, true, true, 70, 300, 260, 1, 0.5, 2, 1, 3);
    }

    [Test]
    public void ResultsDoNotDependOnTheThreadCount([Values(150, 20)] int m,
        [ValueSource(nameof(Kernels))] string kernel)
    {
        var choice = Choose(kernel);
        var rng = new Random(9);
        int n = 800, k = 300;
        float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        int saved = CpuParallel.MaxThreads;
        try
        {
            CpuParallel.MaxThreads = 1;
            CpuGemm.GemmCore(choice, false, false, m, n, k, 1f, a, k, b, n, 0f, c1, n);
            CpuParallel.MaxThreads = 3;
            CpuGemm.GemmCore(choice, false, false, m, n, k, 1f, a, k, b, n, 0f, c2, n);
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
        TensorAssert.Equal<float>(c2, c1, "gemm with 3 threads against 1");
    }

    /// <summary>
    /// Shallow products (K up to 16, B not transposed, width a multiple of 16) run on the SmallM path, four rows at a
    /// time with Vector512 (the last one to three rows as a pair and a single), two with Vector256: the same FMA
    /// chain per element as the micro-kernel tiles, so the results are equal bit for bit, and match the reference.
    /// Heights cover every remainder mod 4; alpha and beta other than 0 and 1 take every store form.
    /// </summary>
    [TestCase(256, 256, 10, 1f, 0f)]
    [TestCase(37, 64, 1, 1f, 0f)]
    [TestCase(100, 48, 12, 0.5f, 0f)]
    [TestCase(61, 32, 7, 1.5f, 0.25f)]
    [TestCase(13, 16, 12, 1f, 1f)]
    [TestCase(9, 80, 16, 1f, 0f)]
    [TestCase(38, 64, 3, 1f, 0f)]
    [TestCase(39, 48, 5, 2f, -1f)]
    [TestCase(6, 144, 16, 1f, 0f)]
    [TestCase(3, 16, 2, -1f, 0.5f)]
    public void ShallowProductsRunRowByRowAndMatchTheTiles(int m, int n, int k, float alpha, float beta)
    {
        // With AVX-512 these run on the SmallM path; with narrower vectors, up to eight rows run the few-rows path,
        // and more the SmallM path (AVX2) or the packed driver (Vector128). Whichever runs, row-major B gives the
        // tiles' FMA chain.
        var tilesKernel = PackedDriverHere();
        var expected = tilesKernel switch
        {
            GemmKernelChoice.Avx512 => GemmKernelChoice.SmallM512,
            GemmKernelChoice.Avx2 when m > CpuGemm.FewRowsMax => GemmKernelChoice.SmallM256,
            GemmKernelChoice.Avx2 => GemmKernelChoice.FewRows256,
            _ when m <= CpuGemm.FewRowsMax => GemmKernelChoice.FewRows128,
            _ => tilesKernel,
        };
        CpuGemm.ChooseFloat(false, m, n, k).ShouldBe(expected, $"{m} x {n} x {k}");
        var rng = new Random(m + n + k);
        CheckFloat(GemmKernelChoice.Auto, rng, transA: false, transB: false, m, n, k, alpha, beta, 3, 5, 2);
        CheckFloat(GemmKernelChoice.Auto, rng, transA: true, transB: false, m, n, k, alpha, beta, 0, 0, 0);
        float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n), c0 = TestData.Uniform(rng, m * n);
        float[] rows = (float[])c0.Clone(), tiles = (float[])c0.Clone();
        CpuGemm.Gemm(false, false, m, n, k, alpha, a, k, b, n, beta, rows, n);
        CpuGemm.GemmCore(tilesKernel, false, false, m, n, k, alpha, a, k, b, n, beta, tiles, n);
        TensorAssert.Equal<float>(rows, tiles, $"shallow gemm, rows against {tilesKernel} tiles");
    }

    /// <summary>
    /// A tall shallow product is split across threads by blocks of rows on the SmallM path (short ones by column
    /// blocks), and each block runs 256 columns at a time: the same bits on one thread and on three, and the same as
    /// the packed tiles'. 1030 rows end in a block of six; 592 columns end in a tile of 80 (vectors of every step);
    /// a transposed A takes its rows from columns.
    /// </summary>
    [Test]
    public void ShallowTallProductsSplitByRowsAlike([Values("SmallM512", "SmallM256")] string kernel,
        [Values] bool transA)
    {
        var choice = Choose(kernel);
        const int m = 1030, n = 592, k = 8;
        var rng = new Random(31);
        float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n);
        float[] one = new float[m * n], three = new float[m * n], tiles = new float[m * n];
        int lda = transA ? m : k;
        int saved = CpuParallel.MaxThreads;
        try
        {
            CpuParallel.MaxThreads = 1;
            CpuGemm.GemmCore(choice, transA, false, m, n, k, 1f, a, lda, b, n, 0f, one, n);
            CpuParallel.MaxThreads = 3;
            CpuGemm.GemmCore(choice, transA, false, m, n, k, 1f, a, lda, b, n, 0f, three, n);
            CpuGemm.GemmCore(PackedDriverHere(), transA, false, m, n, k, 1f, a, lda, b, n, 0f, tiles, n);
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
        TensorAssert.Equal<float>(three, one, $"{kernel} with 3 threads against 1");
        TensorAssert.Equal<float>(three, tiles, $"{kernel} against the packed tiles");
    }

    /// <summary>
    /// Up to eight rows of row-major B run the few-rows path on every vector width, and give exactly the packed
    /// drivers' results (the same FMA chain per element); stored-transposed B matches the reference.
    /// </summary>
    [Test]
    public void FewRowsMatchTheTilesBitForBit([Values("FewRows512", "FewRows256", "FewRows128")] string kernel,
        [Values(1, 2, 3, 4, 5, 8)] int m)
    {
        var choice = Choose(kernel);
        var tilesKernel = kernel switch
        {
            "FewRows512" => GemmKernelChoice.Avx512,
            "FewRows256" => GemmKernelChoice.Avx2,
            _ => GemmKernelChoice.Vector128,
        };
        var rng = new Random(50 + m);
        // Depths within one K block of the drivers (KC 256 at the narrowest): deeper, the drivers round C between
        // blocks, where the few-rows path keeps one chain, and only the reference check applies.
        foreach (var (n, k) in new[] { (256, 200), (37, 250), (70, 9), (256, 784) })
        {
            CheckFloat(choice, rng, transA: false, transB: true, m, n, k, 1f, 0f, 1, 3, 0);
            CheckFloat(choice, rng, transA: true, transB: true, m, n, k, -0.75f, 0.5f, 2, 0, 1);
            CheckFloat(choice, rng, transA: true, transB: false, m, n, k, 1f, 1f, 0, 2, 0);
            if (k > 256) continue;
            float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n);
            float[] c0 = TestData.Uniform(rng, m * n);
            float[] rows = (float[])c0.Clone(), tiles = (float[])c0.Clone();
            CpuGemm.GemmCore(choice, false, false, m, n, k, 0.5f, a, k, b, n, 2f, rows, n);
            CpuGemm.GemmCore(tilesKernel, false, false, m, n, k, 0.5f, a, k, b, n, 2f, tiles, n);
            TensorAssert.Equal<float>(rows, tiles, $"{kernel} against {tilesKernel} tiles, {m} x {n} x {k}");
        }
    }

    /// <summary>
    /// One to eight rows on the few-rows paths against the reference: depths that leave a scalar tail after the
    /// vectors at every width (and shorter than one vector), widths that leave rows of B outside the eight- and
    /// four-row groups of the dot products and columns outside the streamed vectors, both layouts of B, and
    /// every store form (beta 0 over NaN, C += product, a general update).
    /// </summary>
    [Test]
    public void FewRowsMatchTheReferenceOnRaggedShapes(
        [Values("Auto", "FewRows512", "FewRows256", "FewRows128")] string kernel, [Values] bool transB)
    {
        var choice = Choose(kernel);
        var rng = new Random(70 + kernel.Length + (transB ? 1 : 0));
        foreach (int m in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            foreach (var (n, k) in new[] { (13, 3), (33, 37), (15, 19), (1, 785), (263, 101) })
            {
                var (alpha, beta) = Scalings[(m + n) % Scalings.Length];
                CheckFloat(choice, rng, transA: false, transB, m, n, k, (float)alpha, (float)beta, 1, 2, 3);
            }
        }
        CheckFloat(choice, rng, transA: true, transB, 7, 45, 51, 1f, 1f, 2, 0, 1);
    }

    /// <summary>
    /// A row of stored-transposed B's products is summed in one order whatever the number of rows: batch-1 runs
    /// eight rows of B at a time, more rows four rows of B by two rows of A, and both end in the same lane sums,
    /// so a row of x gives the same bits alone as inside a batch (and on every row of that batch). So do the last
    /// n mod 4 rows of B, which a batch runs as a zero-padded group of four (the 10-class head: two rows).
    /// </summary>
    [Test]
    public void FewRowsSumARowAloneAsInABatch([Values("FewRows512", "FewRows256", "FewRows128")] string kernel,
        [Values(2, 5, 8, 70)] int m)
    {
        var choice = Choose(kernel);
        var rng = new Random(90 + m);
        foreach (var (n, k, alpha, beta) in new[]
                 {
                     (256, 784, 1f, 0f), (21, 45, 1f, 0f), (10, 256, 1f, 0f), (11, 84, -0.75f, 1.5f),
                     (3, 37, 2f, -1f),
                 })
        {
            float[] row = TestData.Uniform(rng, k), b = TestData.Uniform(rng, n * k), c0 = TestData.Uniform(rng, n);
            // Every row of the batch is the same row of x, and every row of C starts as c0.
            float[] batch = Enumerable.Range(0, m).SelectMany(_ => row).ToArray();
            float[] alone = (float[])c0.Clone();
            float[] together = Enumerable.Range(0, m).SelectMany(_ => c0).ToArray();
            CpuGemm.GemmCore(choice, false, true, 1, n, k, alpha, row, k, b, k, beta, alone, n);
            CpuGemm.GemmCore(choice, false, true, m, n, k, alpha, batch, k, b, k, beta, together, n);
            for (int i = 0; i < m; i++)
            {
                TensorAssert.Equal<float>(together[(i * n)..((i + 1) * n)], alone,
                    $"{kernel}: row {i} of {m}, {n} x {k}");
            }
        }
    }

    /// <summary>
    /// The few-rows dot products' lane sums: four vectors at a time (the transpose-and-add tree) and one at a time
    /// give the same bits, the documented order: (l0 + l1) + (l2 + l3) per group of four lanes, groups in pairs.
    /// </summary>
    [Test]
    public void LaneSumsAddInOneFixedOrder()
    {
        var rng = new Random(33);
        for (int trial = 0; trial < 200; trial++)
        {
            // Values of very different sizes, so that another order gives other bits.
            float[] v = Enumerable.Range(0, 64).Select(_ => (float)((rng.NextDouble() - 0.5) *
                Math.Pow(10, rng.Next(-4, 5)))).ToArray();
            float Quad(int at) => (v[at] + v[at + 1]) + (v[at + 2] + v[at + 3]);
            float Expected(int at, int lanes) => lanes switch
            {
                4 => Quad(at),
                8 => Quad(at) + Quad(at + 4),
                _ => (Quad(at) + Quad(at + 4)) + (Quad(at + 8) + Quad(at + 12)),
            };
            CheckLanes(System.Runtime.Intrinsics.Vector128.Create(v.AsSpan(0, 4)),
                System.Runtime.Intrinsics.Vector128.Create(v.AsSpan(4, 4)),
                System.Runtime.Intrinsics.Vector128.Create(v.AsSpan(8, 4)),
                System.Runtime.Intrinsics.Vector128.Create(v.AsSpan(12, 4)), 4);
            if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            {
                CheckLanes(System.Runtime.Intrinsics.Vector256.Create(v.AsSpan(0, 8)),
                    System.Runtime.Intrinsics.Vector256.Create(v.AsSpan(8, 8)),
                    System.Runtime.Intrinsics.Vector256.Create(v.AsSpan(16, 8)),
                    System.Runtime.Intrinsics.Vector256.Create(v.AsSpan(24, 8)), 8);
            }
            if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            {
                CheckLanes(System.Runtime.Intrinsics.Vector512.Create(v.AsSpan(0, 16)),
                    System.Runtime.Intrinsics.Vector512.Create(v.AsSpan(16, 16)),
                    System.Runtime.Intrinsics.Vector512.Create(v.AsSpan(32, 16)),
                    System.Runtime.Intrinsics.Vector512.Create(v.AsSpan(48, 16)), 16);
            }

            void CheckLanes<TV>(TV a, TV b, TV c, TV d, int lanes)
                where TV : struct
            {
                var four = LaneSums.Four(a, b, c, d);
                TV[] each = [a, b, c, d];
                for (int i = 0; i < 4; i++)
                {
                    four[i].ShouldBe(Expected(i * lanes, lanes), $"{lanes} lanes, vector {i}");
                    LaneSums.One(each[i]).ShouldBe(Expected(i * lanes, lanes), $"{lanes} lanes, vector {i} alone");
                }
            }
        }
    }

    /// <summary>
    /// A classifier head, x W^T into ten (or up to sixteen) columns with a deep enough k, runs Auto's few-rows dot
    /// products whatever the batch, gives the reference's result on both layouts of A, and the same bits as that
    /// path pinned; shallower heads and wider products keep the packed drivers.
    /// </summary>
    [Test]
    public void NarrowHeadsRunTheDotProducts([Values(9, 64, 256)] int m, [Values(10, 16)] int n)
    {
        var auto = CpuGemm.ChooseFloat(true, m, n, 256);
        if (auto == GemmKernelChoice.Generic) Assert.Ignore("no vector GEMM in this process (the scalar path)");
        auto.ShouldBeOneOf(GemmKernelChoice.FewRows512, GemmKernelChoice.FewRows256, GemmKernelChoice.FewRows128);
        CpuGemm.ChooseFloat(true, m, n, 84).ShouldBe(PackedDriverHere(), "k = 84 is too shallow for dot products");
        CpuGemm.ChooseFloat(true, m, 17, 256).ShouldBe(PackedDriverHere(), "17 columns are past a head");
        var rng = new Random(m * 17 + n);
        CheckFloat(GemmKernelChoice.Auto, rng, transA: false, transB: true, m, n, 256, 1f, 0f, 3, 1, 2);
        CheckFloat(GemmKernelChoice.Auto, rng, transA: true, transB: true, m, n, 300, -0.5f, 2f, 0, 0, 0);
        float[] a = TestData.Uniform(rng, m * 256), b = TestData.Uniform(rng, n * 256);
        float[] viaAuto = new float[m * n], pinned = new float[m * n];
        CpuGemm.GemmCore(GemmKernelChoice.Auto, false, true, m, n, 256, 1f, a, 256, b, 256, 0f, viaAuto, n);
        CpuGemm.GemmCore(auto, false, true, m, n, 256, 1f, a, 256, b, 256, 0f, pinned, n);
        TensorAssert.Equal<float>(viaAuto, pinned, $"Auto against {auto}, {m} x {n} x 256");
    }

    /// <summary>The packed driver Auto runs for tall products in this process.</summary>
    private static GemmKernelChoice PackedDriverHere()
    {
        var choice = CpuGemm.ChooseFloat(false, 1000, 1000, 1000);
        if (choice == GemmKernelChoice.Generic) Assert.Ignore("no vector GEMM in this process (the scalar path)");
        return choice;
    }

    /// <summary>
    /// Shapes that take each way through the AVX-512 driver, built from its tuning constants so that they keep
    /// crossing its boundaries when those are retuned: m, n, k and the padding past each leading dimension.
    /// </summary>
    private static IEnumerable<(string What, int M, int N, int K, int PadA, int PadB, int PadC)> DriverShapes()
    {
        int kc = SgemmAvx512Driver.KC, nc = SgemmAvx512Driver.NC, mc = SgemmAvx512Driver.MC;
        int shallow = SgemmAvx512Driver.RowsInnerDepth;
        // Padding that puts lda past the in-place limit for stored-transposed A (when transA) and ldb past the one
        // for row-major B (when not transB), so both get packed.
        int FarA(int m) => SgemmAvx512Driver.DirectTransposedLda + 1 - m;
        int farB = SgemmAvx512Driver.DirectBLdb;
        yield return Case("narrow C: one ragged 16-column sliver", 50, 10, 84, 0, 0, 0);
        yield return Case("a few rows of C (B in place whatever its stride)", 10, 84, shallow + 72, 0, farB, 1);
        yield return Case("depth 1", 40, 70, 1, 2, 0, 0);
        yield return Case("every sliver width and tile height", 23, 64 + 48 + 32 + 16 - 3, 33, 1, 2, 3);
        yield return Case("two K blocks and two B panels", 13, nc + 21, kc + 37, 1, 3, 2);
        yield return Case("row blocks and B panels, shallow", mc + 9, nc + 21, 5, 0, 1, 5);
        yield return Case("row blocks, deep", mc + 9, 70, shallow + 3, 3, 0, 0);
        yield return Case("packed A and B, shallow", mc + 9, 40, 30, FarA(mc + 9), farB, 0);
        yield return Case("packed A and B, deep", 40, 70, shallow + 3, FarA(40), farB, 1);
        // m = 128 unpadded: stored-transposed A has lda 128, a multiple of 64 floats, and is packed (L1 aliasing).
        yield return Case("lda a multiple of 64: stored-transposed A packed", 128, 70, shallow + 3, 0, 0, 0);
        yield return Case("packed A, two of its wider B panels", 20, SgemmAvx512Driver.NCPackedA + 21, 30, FarA(20),
            0, 0);
        // lda 64 (transA): every driver packs stored-transposed A whose rows would alias in L1.
        yield return Case("stored-transposed A, lda a multiple of 64", 64, 70, 40, 0, 0, 0);
        // Stored-transposed A over several of the narrower drivers' B panels: packed a whole K block at a time
        // (lda 192 when transA, a multiple of 64), two K blocks, the last rows a partial sliver.
        int kc2 = SgemmKernel6x2V<Simd256, Vector256<float>>.KC, nc2 = SgemmKernel6x2V<Simd256, Vector256<float>>.NC;
        yield return Case("stored-transposed A, whole K blocks over B panels", 149, nc2 + 9, kc2 + 37, 43, 0, 1);
        // Row-major A on the narrower drivers: their deeper K blocks and narrower B panels, two of each.
        int kc3 = SgemmKernel6x2V<Simd256, Vector256<float>>.KCRowMajorA;
        int nc3 = SgemmKernel6x2V<Simd256, Vector256<float>>.NCRowMajorA;
        yield return Case("row-major A, deeper K blocks over narrower B panels", 21, nc3 + 9, kc3 + 37, 3, 0, 1);

        static (string, int, int, int, int, int, int) Case(string what, int m, int n, int k, int padA, int padB,
            int padC) => (what, m, n, k, padA, padB, padC);
    }

    /// <summary>The AVX-512 driver's path shapes through every packed driver (and Auto), whichever runs here.</summary>
    public static IEnumerable<TestCaseData> DriverPaths() =>
        from kernel in DriverKernels
        from c in DriverShapes()
        select new TestCaseData(kernel, c.M, c.N, c.K, c.PadA, c.PadB, c.PadC).SetArgDisplayNames(kernel, c.What);

    [TestCaseSource(nameof(DriverPaths))]
    public void DriversMatchReferenceOnEveryPath(string kernel, int m, int n, int k, int padA, int padB, int padC)
    {
        var choice = Choose(kernel);
        var rng = new Random(m * 31 + n * 7 + k);
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                // Plain store (NaN in C must not survive), scaled store, C += acc (later K blocks), general update.
                var (alpha, beta) = Scalings[rng.Next(Scalings.Length)];
                CheckFloat(choice, rng, transA, transB, m, n, k, 1f, 0f, padA, padB, padC);
                CheckFloat(choice, rng, transA, transB, m, n, k, (float)alpha, (float)beta, padA, padB, padC);
            }
        }
    }

    [Test]
    public void DriversDoNotDependOnTheThreadCount([Values] bool transA, [Values] bool transB,
        [Values(false, true)] bool far, [Values(261, 20, 5)] int m,
        [Values("Avx512", "Avx2", "Vector128", "FewRows512", "FewRows256", "FewRows128")] string kernel)
    {
        // 261 rows split by rows, 20 by columns; far leading dimensions take the AVX-512 driver's packed A and B
        // paths; five rows is what Auto sends to the few-rows paths.
        var choice = Choose(kernel);
        if (kernel.StartsWith("FewRows") && m > CpuGemm.FewRowsMax) Assert.Ignore("the few-rows paths take few rows");
        var rng = new Random(11 + m);
        // Past one B panel of every driver: stored-transposed A takes the narrower drivers' whole-K-block loops.
        int n = Math.Max(SgemmAvx512Driver.NCPackedA, SgemmKernel6x2V<Simd256, Vector256<float>>.NC) + 5;
        int k = SgemmAvx512Driver.KC + 37;
        int lda = (transA ? m : k) + (far ? SgemmAvx512Driver.DirectTransposedLda : 0);
        int ldb = (transB ? k : n) + (far ? SgemmAvx512Driver.DirectBLdb : 0);
        float[] a = TestData.Uniform(rng, (transA ? k : m) * lda), b = TestData.Uniform(rng, (transB ? n : k) * ldb);
        var results = new List<float[]>();
        int saved = CpuParallel.MaxThreads;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                CpuParallel.MaxThreads = threads;
                var c = new float[m * n];
                CpuGemm.GemmCore(choice, transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
                results.Add(c);
            }
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
        TensorAssert.Equal<float>(results[1], results[0], "gemm with 2 threads against 1");
        TensorAssert.Equal<float>(results[2], results[0], "gemm with 3 threads against 1");
    }

    [Test]
    public void BetaZeroOverwritesNaN([ValueSource(nameof(Kernels))] string kernel)
    {
        var choice = Choose(kernel);
        var rng = new Random(10);
        int m = 13, n = 70, k = 9;
        float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n);
        float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray();
        CpuGemm.GemmCore(choice, false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
        c.ShouldAllBe(x => float.IsFinite(x));
        double[] cd = Enumerable.Repeat(double.NaN, m * n).ToArray();
        CpuGemm.Gemm(false, false, m, n, k, 1.0, ToDouble(a), k, ToDouble(b), n, 0.0, cd, n);
        cd.ShouldAllBe(x => double.IsFinite(x));
    }

    [Test]
    public void ZeroDepthScalesC()
    {
        float[] c = [1, 2, float.NaN, 4];
        CpuGemm.Gemm(false, false, 2, 2, 0, 1f, [], 0, [], 2, 0f, c, 2);
        c.ShouldBe([0f, 0, 0, 0]);
        c = [1, 2, 3, 4];
        CpuGemm.Gemm(true, true, 2, 2, 0, 1f, [], 2, [], 0, 2f, c, 2);
        c.ShouldBe([2f, 4, 6, 8]);
        double[] cd = [1, 2, 3, 4];
        CpuGemm.Gemm(false, false, 2, 2, 0, 1.0, [], 0, [], 2, 1.0, cd, 2);
        cd.ShouldBe([1.0, 2, 3, 4]);
    }

    [Test]
    public void AlphaZeroDoesNotReadAOrB()
    {
        // As in BLAS: with alpha == 0 the product is skipped, so NaN in A or B does not reach C.
        float[] a = [float.NaN, 1, 2, 3], b = [1, float.NaN, 1, 1], c = [1, 2, 3, 4];
        CpuGemm.Gemm(false, false, 2, 2, 2, 0f, a, 2, b, 2, 0.5f, c, 2);
        c.ShouldBe([0.5f, 1, 1.5f, 2]);
    }

    [Test]
    public void EmptyMatricesDoNothing()
    {
        float[] c = [5, 6];
        CpuGemm.Gemm(false, false, 0, 2, 3, 1f, [], 3, new float[6], 2, 0f, [], 2);
        CpuGemm.Gemm(false, false, 2, 0, 3, 1f, new float[6], 3, [], 0, 0f, [], 0);
        CpuGemm.Gemm(false, false, 1, 2, 0, 1f, [], 0, [], 2, 1f, c, 2);
        c.ShouldBe([5f, 6]);
        CpuGemm.BatchedGemm(0, false, false, 2, 2, 2, 1f, [], 4, [], 4, 0f, Span<float>.Empty, 4);
        CpuGemm.BatchedGemm(3, false, false, 0, 2, 2, 1.0, [], 0, new double[4], 0, 0.0, Span<double>.Empty, 0);
        // K = 0 through the operator: the product of (2, 0) and (0, 3) is a (2, 3) array of zeros.
        using var a = Nd.Zeros(new Shape(2, 0));
        using var b = Nd.Zeros(new Shape(0, 3));
        using var y = Nd.Dot(a, b);
        y.Shape.ShouldBe(new Shape(2, 3));
        y.ToArray().ShouldBe(new float[6]);
    }

    [Test]
    public void FloatBatchedMatchesReference([Values] bool transA, [Values] bool transB,
        [Values("", "a", "b")] string broadcast)
    {
        var rng = new Random(20 + (transA ? 2 : 0) + (transB ? 1 : 0) + broadcast.Length * 4);
        foreach (var (batch, m, n, k) in new[] { (1, 5, 7, 3), (3, 17, 33, 9), (4, 1, 65, 17), (64, 33, 33, 33) })
        {
            long sizeA = (long)m * k, sizeB = (long)k * n, sizeC = (long)m * n;
            long strideA = broadcast == "a" ? 0 : sizeA, strideB = broadcast == "b" ? 0 : sizeB;
            float[] a = TestData.Uniform(rng, (batch - 1) * strideA + sizeA);
            float[] b = TestData.Uniform(rng, (batch - 1) * strideB + sizeB);
            float[] c = TestData.Uniform(rng, batch * sizeC);
            var expected = GemmReference.BatchedGemm(batch, transA, transB, m, n, k, 1.5, ToDouble(a), strideA,
                ToDouble(b), strideB, -1, ToDouble(c), sizeC);
            CpuGemm.BatchedGemm(batch, transA, transB, m, n, k, 1.5f, a, strideA, b, strideB, -1f, c, sizeC);
            TensorAssert.AllClose(ToDouble(c), expected, Float32Gemm(k),
                $"batched_gemm batch {batch} m {m} n {n} k {k} transA {transA} transB {transB} '{broadcast}'");
        }
    }

    [Test]
    public void DoubleBatchedMatchesReference([Values] bool transA, [Values] bool transB)
    {
        var rng = new Random(30 + (transA ? 2 : 0) + (transB ? 1 : 0));
        int batch = 5, m = 9, n = 17, k = 33;
        double[] a = TestData.UniformDouble(rng, batch * m * k), b = TestData.UniformDouble(rng, k * n);
        double[] c = Enumerable.Repeat(double.NaN, batch * m * n + 3).ToArray();
        var expected = GemmReference.BatchedGemm(batch, transA, transB, m, n, k, 1, a, m * k, b, 0, 0, c, m * n);
        CpuGemm.BatchedGemm(batch, transA, transB, m, n, k, 1.0, a, m * k, b, 0, 0.0, c, m * n);
        TensorAssert.AllClose(c, expected, Tolerances.Float64, "batched_gemm float64, B broadcast");
    }

    [Test]
    public void BatchedWritesOnlyItsOutputs()
    {
        // strideC larger than one matrix: the gaps between outputs keep their NaN.
        var rng = new Random(40);
        int batch = 3, m = 4, n = 5, k = 6;
        float[] a = TestData.Uniform(rng, batch * m * k), b = TestData.Uniform(rng, batch * k * n);
        float[] c = Enumerable.Repeat(float.NaN, 2 * m * n * batch).ToArray();
        var expected = GemmReference.BatchedGemm(batch, false, false, m, n, k, 1, ToDouble(a), m * k, ToDouble(b),
            k * n, 0, ToDouble(c), 2 * m * n);
        CpuGemm.BatchedGemm(batch, false, false, m, n, k, 1f, a, m * k, b, k * n, 0f, c, 2 * m * n);
        TensorAssert.AllClose(ToDouble(c), expected, Float32Gemm(k), "batched_gemm with gaps between outputs");
    }

    [Test]
    public void RejectsBadDimensions()
    {
        float[] x = new float[16];
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.Gemm(false, false, -1, 2, 2, 1f, x, 2, x, 2, 0f,
            new float[4], 2), "gemm: m must be non-negative");
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.Gemm(false, false, 2, 2, -3, 1f, x, 2, x, 2, 0f,
            new float[4], 2), "k = -3");
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.Gemm(false, false, 2, 3, 4, 1f, x, 3, x, 3, 0f,
            new float[6], 3), "gemm: lda 3 is smaller than the 4 columns of a");
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.Gemm(true, false, 2, 3, 4, 1f, x, 1, x, 3, 0f,
            new float[6], 3), "transA is true");
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.Gemm(false, true, 2, 3, 4, 1f, x, 4, x, 3, 0f,
            new float[6], 3), "gemm: ldb 3 is smaller than the 4 columns of b");
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.Gemm(false, false, 2, 3, 4, 1f, x, 4, x, 3, 0f,
            new float[6], 2), "gemm: ldc 2 is smaller than the 3 columns of c");
    }

    [Test]
    public void RejectsShortBuffers()
    {
        float[] x = new float[16];
        Reject<ArgumentException>(() => CpuGemm.Gemm(false, false, 3, 2, 4, 1f, new float[11], 4, x, 2, 0f,
            new float[6], 2), "gemm: a has 11 elements but a 3 x 4 matrix with lda 4 needs 12");
        Reject<ArgumentException>(() => CpuGemm.Gemm(false, true, 3, 2, 4, 1f, x, 4, new float[8], 5, 0f,
            new float[6], 2), "gemm: b has 8 elements but a 2 x 4 matrix with ldb 5 needs 9");
        Reject<ArgumentException>(() => CpuGemm.Gemm(false, false, 3, 2, 4, 1f, x, 4, x, 2, 0f, new float[5], 2),
            "gemm: c has 5 elements but a 3 x 2 matrix with ldc 2 needs 6");
        Reject<ArgumentException>(() => CpuGemm.Gemm(false, false, 2, 2, 2, 1f, x, 2, x, 2, 0f, x, 2),
            "gemm: c overlaps a");
    }

    [Test]
    public void RejectsBadBatches()
    {
        float[] x = new float[64];
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.BatchedGemm(-1, false, false, 2, 2, 2, 1f, x, 4, x, 4,
            0f, new float[8], 4), "batched_gemm: batch must be non-negative");
        Reject<ArgumentOutOfRangeException>(() => CpuGemm.BatchedGemm(2, false, false, 2, 2, 2, 1f, x, -4, x, 4,
            0f, new float[8], 4), "batched_gemm: strideA must be non-negative");
        Reject<ArgumentException>(() => CpuGemm.BatchedGemm(2, false, false, 2, 2, 2, 1f, x, 4, x, 4, 0f,
            new float[8], 0), "batched_gemm: strideC 0 is smaller than one 2 x 2 output matrix");
        Reject<ArgumentException>(() => CpuGemm.BatchedGemm(3, false, false, 2, 3, 2, 1f, new float[11], 4, x, 0,
            0f, new float[18], 6), "batched_gemm: a has 11 elements but 3 matrices of 2 x 2 at strideA 4 needs 12");
        Reject<ArgumentException>(() => CpuGemm.BatchedGemm(3, false, false, 2, 3, 2, 1f, x, 0, x, 0, 0f,
            new float[17], 6), "batched_gemm: c has 17 elements");
    }

    [Test]
    public void GoldenCasesArePresent() => GoldenCases.ShouldNotBeEmpty("run tools/golden/gen_gemm.py");

    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorch(string name)
    {
        var g = Golden.Load("gemm", name);
        var attrs = g.Attrs;
        int m = attrs.GetProperty("m").GetInt32(), n = attrs.GetProperty("n").GetInt32();
        int k = attrs.GetProperty("k").GetInt32(), batch = attrs.GetProperty("batch").GetInt32();
        bool transA = attrs.GetProperty("trans_a").GetBoolean(), transB = attrs.GetProperty("trans_b").GetBoolean();
        double alpha = attrs.GetProperty("alpha").GetDouble(), beta = attrs.GetProperty("beta").GetDouble();
        string broadcast = attrs.GetProperty("broadcast").GetString()!;
        int lda = transA ? m : k, ldb = transB ? k : n;
        long strideA = broadcast == "a" ? 0 : (long)m * k, strideB = broadcast == "b" ? 0 : (long)k * n;
        long sizeC = (long)Math.Max(1, batch) * m * n;
        if (g["c"].DType == DType.Float64)
        {
            double[] a = g["a"].ToFloat64(), b = g["b"].ToFloat64();
            double[] c = beta != 0 ? g["c0"].ToFloat64() : Enumerable.Repeat(double.NaN, (int)sizeC).ToArray();
            if (Device.Kind != DeviceKind.Cpu)
                OnDevice(batch, transA, transB, m, n, k, alpha, a, strideA, lda, b, strideB, ldb, beta, c);
            else if (batch == 0) CpuGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
            else CpuGemm.BatchedGemm(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, m * n);
            TensorAssert.AllClose(c, g["c"].ToFloat64(), Tolerances.Golden, name);
        }
        else
        {
            float[] a = g["a"].ToFloat32(), b = g["b"].ToFloat32();
            float[] c = beta != 0 ? g["c0"].ToFloat32() : Enumerable.Repeat(float.NaN, (int)sizeC).ToArray();
            float fa = (float)alpha, fb = (float)beta;
            if (Device.Kind != DeviceKind.Cpu)
                OnDevice(batch, transA, transB, m, n, k, fa, a, strideA, lda, b, strideB, ldb, fb, c);
            else if (batch == 0) CpuGemm.Gemm(transA, transB, m, n, k, fa, a, lda, b, ldb, fb, c, n);
            else CpuGemm.BatchedGemm(batch, transA, transB, m, n, k, fa, a, strideA, b, strideB, fb, c, m * n);
            TensorAssert.AllClose(c, g["c"].ToFloat32(), Tolerances.Golden, name);
        }
    }

    /// <summary>The GPU's (batched) GEMM kernel on copies of the arrays; batch 0 is one unbatched product.</summary>
    private void OnDevice<T>(int batch, bool transA, bool transB, int m, int n, int k, T alpha, T[] a, long strideA,
        int lda, T[] b, long strideB, int ldb, T beta, T[] c) where T : unmanaged, System.Numerics.INumber<T>
    {
        using var args = new DeviceArgs(Device);
        Engine.Kernels.Gpu.GpuGemm.BatchedGemm((Engine.Kernels.Gpu.GpuRuntime)args.Runtime, Math.Max(batch, 1),
            transA, transB, m, n, k, alpha, args.Arg(a), strideA, lda, args.Arg(b), strideB, ldb, beta, args.Arg(c),
            (long)m * n, n);
        args.ReadBack();
    }

    private static IEnumerable<(int M, int N, int K)> Shapes(Random rng)
    {
        foreach (var s in FixedShapes) yield return s;
        for (int i = 0; i < 6; i++)
            yield return (Sizes[rng.Next(Sizes.Length)], Sizes[rng.Next(Sizes.Length)], Sizes[rng.Next(Sizes.Length)]);
        yield return (rng.Next(1, 100), rng.Next(1, 200), rng.Next(1, 100));
    }

    private static GemmKernelChoice Choose(string kernel)
    {
        var choice = Enum.Parse<GemmKernelChoice>(kernel);
        if (choice is GemmKernelChoice.Avx512 or GemmKernelChoice.SmallM512 or GemmKernelChoice.FewRows512
            && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            Assert.Ignore($"{kernel}: Vector512 is not hardware accelerated in this process");
        if (choice is GemmKernelChoice.Avx2 or GemmKernelChoice.SmallM256 or GemmKernelChoice.FewRows256
            && !(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated
                 && System.Runtime.Intrinsics.X86.Fma.IsSupported))
            Assert.Ignore($"{kernel}: Vector256 with FMA is not hardware accelerated in this process");
        if (choice is GemmKernelChoice.Vector128 or GemmKernelChoice.FewRows128
            && !System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            Assert.Ignore($"{kernel}: Vector128 is not hardware accelerated in this process");
        return choice;
    }

    /// <summary>
    /// Random operands with extra columns past each leading dimension (NaN in A, B and C's padding, NaN in C when
    /// beta is 0), through <see cref="CpuGemm.GemmCore{T}"/> or, for Auto, the validating public entry point.
    /// </summary>
    private static void CheckFloat(GemmKernelChoice choice, Random rng, bool transA, bool transB, int m, int n,
        int k, float alpha, float beta, int padA, int padB, int padC)
    {
        int lda = (transA ? m : k) + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        float[] a = Padded(rng, transA ? k : m, transA ? m : k, lda);
        float[] b = Padded(rng, transB ? n : k, transB ? k : n, ldb);
        float[] c = Padded(rng, m, n, ldc);
        if (beta == 0) Array.Fill(c, float.NaN);
        var expected = GemmReference.Gemm(transA, transB, m, n, k, alpha, ToDouble(a), lda, ToDouble(b), ldb, beta,
            ToDouble(c), ldc);
        if (choice == GemmKernelChoice.Auto)
            CpuGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else
            CpuGemm.GemmCore(choice, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        TensorAssert.AllClose(ToDouble(c), expected, Float32Gemm(k),
            $"gemm {choice} m {m} n {n} k {k} transA {transA} transB {transB} alpha {alpha} beta {beta} " +
            $"lda {lda} ldb {ldb} ldc {ldc}");
    }

    private static void CheckDouble(Random rng, bool transA, bool transB, int m, int n, int k, double alpha,
        double beta, int padA, int padB, int padC)
    {
        int lda = (transA ? m : k) + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        double[] a = ToDouble(Padded(rng, transA ? k : m, transA ? m : k, lda));
        double[] b = ToDouble(Padded(rng, transB ? n : k, transB ? k : n, ldb));
        double[] c = ToDouble(Padded(rng, m, n, ldc));
        if (beta == 0) Array.Fill(c, double.NaN);
        var expected = GemmReference.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        CpuGemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        TensorAssert.AllClose(c, expected, Tolerances.Float64,
            $"gemm float64 m {m} n {n} k {k} transA {transA} transB {transB} lda {lda} ldb {ldb} ldc {ldc}");
    }

    /// <summary>A rows x cols matrix of uniform values in rows ld apart, NaN past column cols.</summary>
    private static float[] Padded(Random rng, int rows, int cols, int ld)
    {
        var x = new float[rows * ld];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < ld; j++) x[i * ld + j] = j < cols ? 2 * rng.NextSingle() - 1 : float.NaN;
        }
        return x;
    }

    private static double[] ToDouble(float[] x) => Array.ConvertAll(x, v => (double)v);

    private static void Reject<TException>(Action call, string expected) where TException : ArgumentException
    {
        var e = Should.Throw<TException>(call);
        e.Message.ShouldContain(expected);
        e.Message.ShouldContain(expected.StartsWith("batched_gemm") ? "batched_gemm: " : "gemm: ");
    }
}
