using System.Diagnostics;
using System.Text.Json;
using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// Benchmarks print one JSON object per line: suite, case, threads, median_ms and gflops where it applies.
/// Usage: dotnet run -c Release --project Engine.Bench -- SUITE [--threads N] [--repeat R] [--out FILE]
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<BenchContext, IEnumerable<BenchResult>>> Suites = new()
    {
        ["elementwise"] = ElementwiseSuite.Run,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine($"usage: Engine.Bench SUITE [--threads N] [--repeat R] [--out FILE]; " +
                                    $"suites: {string.Join(", ", Suites.Keys)}");
            return args.Length == 0 ? 2 : 0;
        }
        if (!Suites.TryGetValue(args[0], out var suite))
        {
            Console.Error.WriteLine($"unknown suite '{args[0]}'; suites: {string.Join(", ", Suites.Keys)}");
            return 2;
        }
        int threads = 1, repeat = 20;
        string? outFile = null;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--repeat": repeat = int.Parse(args[++i]); break;
                case "--out": outFile = args[++i]; break;
                case "--baseline": break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'");
                    return 2;
            }
        }
        CpuParallel.MaxThreads = threads;
        var context = new BenchContext(args[0], threads, repeat);
        using var writer = outFile is null ? null : new StreamWriter(outFile);
        foreach (var result in suite(context))
        {
            string line = JsonSerializer.Serialize(result, BenchResult.JsonOptions);
            Console.WriteLine(line);
            writer?.WriteLine(line);
        }
        return 0;
    }
}

public sealed record BenchContext(string Suite, int Threads, int Repeat)
{
    /// <summary>Runs <paramref name="body"/> a few times to warm up, then <see cref="Repeat"/> times; the median.</summary>
    public double MedianMilliseconds(Action body)
    {
        for (int i = 0; i < 3; i++) body();
        var times = new double[Repeat];
        for (int i = 0; i < Repeat; i++)
        {
            long start = Stopwatch.GetTimestamp();
            body();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}

public sealed record BenchResult(string Suite, string Case, int Threads, double MedianMs, double? Gflops = null,
    double? GbPerS = null)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
