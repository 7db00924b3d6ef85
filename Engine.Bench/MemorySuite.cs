using System.Diagnostics;
using Engine.Graphs;
using Engine.Graphs.Passes;

namespace Engine.Bench;

/// <summary>
/// The memory plans of the hybridize suite's models (MLP and LeNet at batch 256, ResNet-18 32x32 at batch 32):
/// per model an inference case (<c>mlp_b256_inference</c>: the predict-mode graph) and a training case
/// (<c>mlp_b256_train</c>: forward and backward planned together, as a recorded call runs them), with
/// <c>planned_bytes</c> (the arena a call uses: every planned buffer, 64-byte aligned, which is its peak) and
/// <c>unplanned_bytes</c> (every operator output allocated on its own, as imperative execution does).
/// Both graphs go through the compiler's default passes (fusion on), as a hybridized block's calls do.
/// <c>median_ms</c> is the time to optimize, plan and compile the traced graph (median of a few compilations).
/// </summary>
public static class MemorySuite
{
    private const int Compilations = 5;

    // What a hybridized block compiles by default (fusion on), so the plan is the one its calls run.
    private static readonly CompilerOptions Compiler = new();

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        foreach (var (name, make, sample, _, batch) in HybridizeSuite.Models)
        {
            string inference = $"{name}_b{batch}_inference", training = $"{name}_b{batch}_train";
            bool wantInference = ctx.Wants(inference), wantTraining = ctx.Wants(training);
            if (!wantInference && !wantTraining) continue;
            var net = HybridizeSuite.Build(make, sample, "hybrid");
            using var x = Nd.Zeros(HybridizeSuite.Shape(batch, sample));
            if (wantInference)
            {
                net.Call(x).Dispose();
                var graph = net.CachedGraph!;
                yield return Result(ctx, inference, () =>
                    new GraphExecutor(CompilerPipeline.Inference(graph, Compiler)).CompileFor(x.Device));
            }
            if (wantTraining)
            {
                using (Autograd.Record()) net.Call(x).Dispose();
                var graph = net.CachedGraph!;
                yield return Result(ctx, training, () => new TrainingGraph(graph, [false],
                    optimize: CompilerPipeline.AfterGradient(graph.Outputs.Count, Compiler)).CompileFor(x.Device));
            }
        }
    }

    private static BenchResult Result(BenchContext ctx, string caseName, Func<CompiledGraph> compile)
    {
        var times = new double[Compilations];
        CompiledGraph? compiled = null;
        for (int i = 0; i < times.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            compiled = compile();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        var plan = compiled!.Plan;
        Console.Error.WriteLine($"{caseName}: {compiled.Describe()}");
        return new BenchResult(ctx.Suite, caseName, ctx.Threads, times[times.Length / 2], times[0],
            times[(times.Length - 1) / 4], times[3 * (times.Length - 1) / 4], times.Length, 1,
            PlannedBytes: compiled.ArenaBytes, UnplannedBytes: plan.UnplannedBytes);
    }
}
