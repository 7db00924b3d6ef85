using System.Diagnostics;
using System.Runtime.InteropServices;
using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// The engine's SGEMM against OpenBLAS's <c>cblas_sgemm</c> (P/Invoke into libopenblas.so.0) in the same process,
/// alternated call by call (in turns of at least <see cref="TurnMs"/> with several threads, so one side's idle
/// workers have stopped spinning before the other's turn), each side keeping its fastest call: on a loaded machine
/// both sides meet the same load, and the fastest call is the least disturbed one. Ratio = engine GFLOP/s over
/// OpenBLAS GFLOP/s from the fastest calls (median_ratio: from the medians). OpenBLAS runs --threads threads
/// (openblas_set_num_threads) and whatever core it detects; force its AVX2 kernels with OPENBLAS_CORETYPE=Haswell,
/// as the engine's with DOTNET_EnableAVX512=0 (docs/performance.md). The fc cases stream the weights of a
/// FullyConnected 784 -> 256 from memory (the next of <see cref="InferSuite.StreamCopies"/> copies each call) against
/// a plain vector read of the same copies: ratio = the FC's GB/s over the weights / the read's GB/s. The fc l2 cases
/// use one copy every call, which stays in L2, against the fastest plain read of that copy from L2.
/// </summary>
public static unsafe class BlasSuite
{
    /// <summary>Least time one side runs before the other's turn when more than one thread runs.</summary>
    public const double TurnMs = 100;

    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*,
        int, void> sgemm;

    private static delegate* unmanaged<int, void> setThreads;

    private static delegate* unmanaged<nint> coreName;

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        if (!ctx.OnCpu)
        {
            Console.Error.WriteLine("Engine.Bench gemm-vs-blas: runs on the CPU only (OpenBLAS is a CPU library).");
            yield break;
        }
        if (!Load(out string? problem))
        {
            Console.Error.WriteLine($"Engine.Bench gemm-vs-blas: {problem}");
            yield break;
        }
        Console.Error.WriteLine($"Engine.Bench gemm-vs-blas: {SetUp(ctx.Threads)}");
        var random = new Random(3);
        foreach (int size in new[] { 256, 512, 1024, 2048 })
        {
            foreach (string op in new[] { "NN", "NT", "TN" })
            {
                var r = Gemm(ctx, random, $"sgemm {op} {size}", op, size, size, size);
                if (r is not null) yield return r;
            }
        }
        // The MLP's first layer: forward (x W^T) and weight gradient (dy^T x).
        foreach (var (name, op, m, n, k) in new[] { ("mlp.fc1.fwd", "NT", 256, 256, 784),
            ("mlp.fc1.dw", "TN", 256, 784, 256), ("mlp.fc1.dx", "NN", 256, 784, 256) })
        {
            var r = Gemm(ctx, random, $"sgemm {name} {op} {m}x{n}x{k}", op, m, n, k);
            if (r is not null) yield return r;
        }
        foreach (var r in StreamedFc(ctx, random)) yield return r;
    }

    /// <summary>Sets OpenBLAS's thread count; returns its core and threads.</summary>
    private static string SetUp(int threads)
    {
        setThreads(threads);
        return $"OpenBLAS core {Marshal.PtrToStringAnsi(coreName()) ?? "?"}, {threads} threads";
    }

    private static BenchResult? Gemm(BenchContext ctx, Random random, string name, string op, int m, int n, int k)
    {
        if (!ctx.Wants(name)) return null;
        bool ta = op[0] == 'T', tb = op[1] == 'T';
        using var a = new NativeFloats((long)m * k, random);
        using var b = new NativeFloats((long)k * n, random);
        using var c = new NativeFloats((long)m * n);
        using var cBlas = new NativeFloats((long)m * n);
        int lda = ta ? m : k, ldb = tb ? k : n;
        float* pa = Pointer(a), pb = Pointer(b), pc = Pointer(cBlas);
        Action engine = () => CpuGemm.Gemm(ta, tb, m, n, k, 1f, a.Span, lda, b.Span, ldb, 0f, c.Span, n);
        Action blas = () => sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, 1f, pa, lda, pb, ldb,
            0f, pc, n);
        engine();
        blas();
        CheckClose(name, c.Span, cBlas.Span, k);
        return Alternate(ctx, name, engine, blas, "openblas", flops: 2.0 * m * n * k);
    }

    private static IEnumerable<BenchResult> StreamedFc(BenchContext ctx, Random random)
    {
        const int inputs = 784, outputs = 256, size = inputs * outputs;
        var names = new List<(string Name, int Rows, bool TransB, bool Cached)>();
        foreach (bool cached in new[] { false, true })
        {
            foreach (int rows in new[] { 1, 4 })
            {
                foreach (bool transB in new[] { true, false })
                {
                    string name = $"fc {(cached ? "l2" : "stream")} b{rows} x W{(transB ? "^T" : "")} vs read";
                    if (ctx.Wants(name)) names.Add((name, rows, transB, cached));
                }
            }
        }
        if (names.Count == 0) yield break;
        using var weights = new NativeFloats((long)InferSuite.StreamCopies * size, random);
        using var x = new NativeFloats(4 * inputs, random);
        using var y = new NativeFloats(4 * outputs);
        int next = 0;
        Span<float> NextCopy() => weights.Span.Slice(size * (next = (next + 1) % InferSuite.StreamCopies), size);
        float sink = 0;
        foreach (var (name, rows, transB, cached) in names)
        {
            // Cached: the same copy every call, 784 KB, which stays in a 1 MB or larger L2 between calls, against
            // the fastest plain read of it (InferSuite.ReadCached); the ratio is then the fraction of L2 bandwidth.
            Func<Span<float>> weightsOf = cached ? () => weights.Span[..size] : NextCopy;
            Action read = cached
                ? () => sink += InferSuite.ReadCached(weights.Span[..size])
                : () => sink += InferSuite.ReadAll(NextCopy());
            yield return Alternate(ctx, name,
                () => CpuGemm.Gemm(false, transB, rows, outputs, inputs, 1f, x.Span, inputs, weightsOf(),
                    transB ? inputs : outputs, 0f, y.Span, outputs),
                read, "read", bytes: size * sizeof(float));
        }
        if (sink == 12345) Console.Error.WriteLine(sink);
    }

    /// <summary>
    /// Warms both sides up, then alternates them for the time budget (at least <see cref="BenchContext.MinSamples"/>
    /// calls each), one call a turn on one thread, turns of at least <see cref="TurnMs"/> on more.
    /// </summary>
    private static BenchResult Alternate(BenchContext ctx, string name, Action engine, Action peer, string peerName,
        double flops = 0, double bytes = 0)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < BenchContext.WarmupCalls || warm.Elapsed.TotalSeconds < 0.5; i++)
        {
            engine();
            peer();
        }
        var mine = new List<double>();
        var theirs = new List<double>();
        double turnMs = ctx.Threads > 1 ? TurnMs : 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < ctx.BudgetSeconds || mine.Count < BenchContext.MinSamples ||
            theirs.Count < BenchContext.MinSamples)
        {
            Turn(engine, mine, turnMs);
            Turn(peer, theirs, turnMs);
        }
        mine.Sort();
        theirs.Sort();
        double minMs = mine[0], peerMin = theirs[0], median = Median(mine), peerMedian = Median(theirs);
        return new BenchResult(ctx.Suite, name, ctx.Threads, median, minMs, mine[(mine.Count - 1) / 4],
            mine[3 * (mine.Count - 1) / 4], mine.Count, 1,
            Gflops: flops > 0 ? flops / minMs / 1e6 : null, GbPerS: bytes > 0 ? bytes / minMs / 1e6 : null,
            Peer: peerName, PeerMinMs: peerMin, PeerMedianMs: peerMedian, Ratio: peerMin / minMs,
            MedianRatio: peerMedian / median);
    }

    private static void Turn(Action body, List<double> times, double turnMs)
    {
        long start = Stopwatch.GetTimestamp();
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            body();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < turnMs);
    }

    private static double Median(List<double> sorted) =>
        (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;

    /// <summary>Both sides must compute the same product (to float rounding over k terms of size about 1).</summary>
    private static void CheckClose(string name, Span<float> mine, Span<float> theirs, int k)
    {
        double worst = 0;
        for (int i = 0; i < mine.Length; i++) worst = Math.Max(worst, Math.Abs(mine[i] - theirs[i]));
        if (worst > 1e-5 * k)
            Console.Error.WriteLine($"Engine.Bench gemm-vs-blas: {name}: engine and OpenBLAS differ by {worst}.");
    }

    private static float* Pointer(NativeFloats buffer)
    {
        fixed (float* p = buffer.Span) return p; // native memory: it does not move
    }

    private static bool Load(out string? problem)
    {
        problem = null;
        if (sgemm != null) return true;
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out nint lib) && !NativeLibrary.TryLoad("libopenblas", out lib))
        {
            problem = "libopenblas.so.0 was not found; install OpenBLAS (Debian: libopenblas0-pthread).";
            return false;
        }
        if (!NativeLibrary.TryGetExport(lib, "cblas_sgemm", out nint gemm) ||
            !NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out nint threads) ||
            !NativeLibrary.TryGetExport(lib, "openblas_get_corename", out nint core))
        {
            problem = "the loaded libopenblas lacks cblas_sgemm, openblas_set_num_threads or openblas_get_corename.";
            return false;
        }
        setThreads = (delegate* unmanaged<int, void>)threads;
        coreName = (delegate* unmanaged<nint>)core;
        sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*,
            int, void>)gemm;
        return true;
    }
}
