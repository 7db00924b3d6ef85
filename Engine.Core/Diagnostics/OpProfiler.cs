using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Engine.Diagnostics;

/// <summary>
/// Per-operator time and call counts of eager execution. <c>using (OpProfiler.Start()) { ... }</c>, then
/// <see cref="Report"/>. Off by default; when off it costs one flag check per operation. With
/// <c>Start(byShape: true)</c> each row is an operator with its input shapes, e.g. <c>dot (256,256)x(256,784)</c>,
/// which tells the large calls of an operator from the small ones.
/// </summary>
public static class OpProfiler
{
    private static readonly ConcurrentDictionary<string, (long Calls, long Ticks)> totals = new();
    private static volatile bool enabled;
    private static volatile bool byShape;

    public static bool IsEnabled => enabled;

    /// <summary>Clears the counters and starts profiling until the handle is disposed.</summary>
    public static IDisposable Start(bool byShape = false)
    {
        totals.Clear();
        OpProfiler.byShape = byShape;
        enabled = true;
        return new Stop();
    }

    internal static long Begin() => enabled ? Stopwatch.GetTimestamp() : 0;

    internal static void End(string op, NDArray[] inputs, long start)
    {
        if (start == 0) return;
        long ticks = Stopwatch.GetTimestamp() - start;
        string key = byShape ? $"{op} {string.Join("x", inputs.Select(x => x.Shape.ToString()))}" : op;
        totals.AddOrUpdate(key, (1, ticks), (_, t) => (t.Calls + 1, t.Ticks + ticks));
    }

    /// <summary>The same for a compiled graph's launches, which know their input types but hold no arrays.</summary>
    internal static void End(string op, Ops.TensorType[] inputs, long start)
    {
        if (start == 0) return;
        long ticks = Stopwatch.GetTimestamp() - start;
        string key = byShape ? $"{op} {string.Join("x", inputs.Select(x => x.Shape.ToString()))}" : op;
        totals.AddOrUpdate(key, (1, ticks), (_, t) => (t.Calls + 1, t.Ticks + ticks));
    }

    /// <summary>Operators by total time: calls, total milliseconds and microseconds per call.</summary>
    public static IReadOnlyList<(string Op, long Calls, double TotalMs, double MicrosPerCall)> Results =>
        totals.Select(kv => (kv.Key, kv.Value.Calls, kv.Value.Ticks * 1000.0 / Stopwatch.Frequency,
                kv.Value.Ticks * 1e6 / Stopwatch.Frequency / kv.Value.Calls))
            .OrderByDescending(r => r.Item3).ToList();

    public static string Report()
    {
        var results = Results;
        int width = Math.Max(36, results.Select(r => r.Op.Length + 2).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder($"{"operator".PadRight(width)}{"calls",10}{"total ms",12}{"us/call",12}\n");
        foreach (var (op, calls, ms, us) in results)
            sb.AppendLine($"{op.PadRight(width)}{calls,10}{ms,12:F1}{us,12:F1}");
        return sb.ToString();
    }

    private sealed class Stop : IDisposable
    {
        public void Dispose() => enabled = false;
    }
}
