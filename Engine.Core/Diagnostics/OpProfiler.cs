using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Engine.Diagnostics;

/// <summary>
/// Per-operator time and call counts of eager execution. <c>using (OpProfiler.Start()) { ... }</c>, then
/// <see cref="Report"/>. Off by default; when off it costs one flag check per operation.
/// </summary>
public static class OpProfiler
{
    private static readonly ConcurrentDictionary<string, (long Calls, long Ticks)> totals = new();
    private static volatile bool enabled;

    public static bool IsEnabled => enabled;

    /// <summary>Clears the counters and starts profiling until the handle is disposed.</summary>
    public static IDisposable Start()
    {
        totals.Clear();
        enabled = true;
        return new Stop();
    }

    internal static long Begin() => enabled ? Stopwatch.GetTimestamp() : 0;

    internal static void End(string op, long start)
    {
        if (start == 0) return;
        long ticks = Stopwatch.GetTimestamp() - start;
        totals.AddOrUpdate(op, (1, ticks), (_, t) => (t.Calls + 1, t.Ticks + ticks));
    }

    /// <summary>Operators by total time: calls, total milliseconds and microseconds per call.</summary>
    public static IReadOnlyList<(string Op, long Calls, double TotalMs, double MicrosPerCall)> Results =>
        totals.Select(kv => (kv.Key, kv.Value.Calls, kv.Value.Ticks * 1000.0 / Stopwatch.Frequency,
                kv.Value.Ticks * 1e6 / Stopwatch.Frequency / kv.Value.Calls))
            .OrderByDescending(r => r.Item3).ToList();

    public static string Report()
    {
        var sb = new StringBuilder($"{"operator",-36}{"calls",10}{"total ms",12}{"us/call",12}\n");
        foreach (var (op, calls, ms, us) in Results) sb.AppendLine($"{op,-36}{calls,10}{ms,12:F1}{us,12:F1}");
        return sb.ToString();
    }

    private sealed class Stop : IDisposable
    {
        public void Dispose() => enabled = false;
    }
}
