using System.Diagnostics;
using System.Globalization;
using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// The engine against PyTorch in the same time window: tools/bench/torch_baseline.py runs as a child in its serve
/// mode (<see cref="TorchPeer"/>), and each case alternates an engine turn with a PyTorch turn, so on a shared
/// machine both sides meet the same load. Cases, defined once for both sides by the train, infer and gemm suites
/// (and their torch_baseline.py peers): the training steps (MLP 784-256-10 b256, LeNet b256, ResNet-18 32x32 b32),
/// the dispatch cases (relu and add on 256 floats, MLP b1 inference) and SGEMM squares NN 256-2048. Per case: both
/// sides warm up in turns of <see cref="WarmTurnMs"/> until each is warm as <see cref="BenchContext.Measure"/>
/// has it; then turns alternate for --budget seconds (and at least <see cref="BenchContext.MinSamples"/> samples a
/// side), one sample a turn at one thread, samples for at least <see cref="BlasSuite.TurnMs"/> at more (so the
/// other side's idle workers have stopped spinning). A sample is one call, or several for calls shorter than
/// <see cref="SampleMs"/>. Every sample is kept; the result gives the engine's median and fastest, PyTorch's
/// (peer_median_ms, peer_min_ms), ratio = engine time / PyTorch time from the fastest samples and median_ratio
/// from the medians (below 1: the engine is faster), gflops from the engine's fastest SGEMM call; a table follows.
/// </summary>
public static class VsTorchSuite
{
    /// <summary>
    /// Shortest sample: a dispatch case's call lasts about a microsecond, close to what reading the clock and, in
    /// Python, the loop around the call cost; a millisecond of calls makes both negligible.
    /// </summary>
    public const double SampleMs = 1;

    /// <summary>Warm-up turns are long, so the few hundred warm-up calls cross the pipe in few messages.</summary>
    public const double WarmTurnMs = 250;

    private sealed record Case(string Suite, string Name, double Flops, Func<CaseBody> SetUp);

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        if (!ctx.OnCpu)
        {
            Console.Error.WriteLine("Engine.Bench vs-torch: runs on the CPU only (the PyTorch side is a CPU build).");
            yield break;
        }
        var cases = Cases().Where(c => ctx.Wants(c.Name)).ToList();
        if (cases.Count == 0) yield break;
        using var peer = TorchPeer.Start(ctx.Threads);
        Console.Error.WriteLine($"Engine.Bench vs-torch: engine {ctx.DescribeDevice()}; PyTorch {peer.Description}");
        var results = new List<BenchResult>();
        foreach (var c in cases)
        {
            BenchResult result;
            using (var body = c.SetUp()) result = Alternate(ctx, peer, c, body.Run);
            results.Add(result);
            yield return result;
        }
        Console.WriteLine(Table(results));
    }

    private static IEnumerable<Case> Cases()
    {
        foreach (var (name, create) in TrainSuite.Models)
            yield return new Case("train", $"{name} step", 0, () => TrainSuite.SetUpStep(name, create));
        foreach (string name in InferSuite.DispatchCases)
            yield return new Case("infer", name, 0, () => InferSuite.SetUpDispatch(name));
        var random = new Random(1);
        foreach (var g in BenchCases.Current.Gemm.Where(g => g is { Name: "square", Op: "NN" }))
            yield return new Case("gemm", g.Case, g.Flops, () => GemmSuite.SetUp(g, random));
    }

    private static BenchResult Alternate(BenchContext ctx, TorchPeer peer, Case c, Action engine)
    {
        var mine = new TurnTimes();
        var theirs = new TurnTimes();
        string warmTurn = Seconds(WarmTurnMs);
        while (!mine.Warm || !theirs.Warm)
        {
            mine.Add(Turn(engine, 1, WarmTurnMs), 1);
            theirs.Add(peer.Run(c.Suite, c.Name, warmTurn, 1), 1);
        }
        int myCalls = mine.CallsPerSample(SampleMs), theirCalls = theirs.CallsPerSample(SampleMs);
        double turnMs = ctx.Threads > 1 ? BlasSuite.TurnMs : 0;
        string theirTurn = turnMs > 0 ? Seconds(turnMs) : "1";
        mine = new TurnTimes();
        theirs = new TurnTimes();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < ctx.BudgetSeconds || mine.Count < BenchContext.MinSamples ||
            theirs.Count < BenchContext.MinSamples)
        {
            mine.Add(Turn(engine, myCalls, turnMs), myCalls);
            theirs.Add(peer.Run(c.Suite, c.Name, theirTurn, theirCalls), theirCalls);
        }
        return new BenchResult(ctx.Suite, c.Name, ctx.Threads, mine.MedianMs, mine.FastestMs, mine.Q1Ms, mine.Q3Ms,
            mine.Count, myCalls, Gflops: c.Flops > 0 ? c.Flops / mine.FastestMs / 1e6 : null, Peer: "torch",
            PeerMinMs: theirs.FastestMs, PeerMedianMs: theirs.MedianMs, Ratio: mine.FastestMs / theirs.FastestMs,
            MedianRatio: mine.MedianMs / theirs.MedianMs);
    }

    /// <summary>Samples of <paramref name="calls"/> calls until <paramref name="turnMs"/> has passed, at least one.
    /// </summary>
    private static List<double> Turn(Action body, int calls, double turnMs)
    {
        var times = new List<double>();
        long start = Stopwatch.GetTimestamp();
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) body();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds / calls);
        }
        while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < turnMs);
        return times;
    }

    private static string Seconds(double ms) => (ms / 1000).ToString("0.###", CultureInfo.InvariantCulture) + "s";

    /// <summary>The results as a table: times in ms, ratios engine / PyTorch (below 1: the engine is faster).</summary>
    public static string Table(IReadOnlyList<BenchResult> results)
    {
        var lines = new List<string>
        {
            $"{"case",-36} {"thr",3} {"engine med",11} {"torch med",11} {"engine min",11} {"torch min",11} " +
            $"{"ratio",6} {"med.ratio",9} {"samples",9}",
        };
        foreach (var r in results)
        {
            lines.Add($"{r.Case,-36} {r.Threads,3} {Ms(r.MedianMs),11} {Ms(r.PeerMedianMs),11} {Ms(r.MinMs),11} " +
                $"{Ms(r.PeerMinMs),11} {r.Ratio,6:F2} {r.MedianRatio,9:F2} {r.Samples,9}");
        }
        return string.Join('\n', lines) + $"\n(ms per call; ratio = engine / PyTorch from the fastest samples, " +
            $"med.ratio from the medians; kernels {CpuInstructionSet.Describe()})";
    }

    private static string Ms(double? ms) => ms is double v ? v.ToString("G4", CultureInfo.InvariantCulture) : "-";
}
