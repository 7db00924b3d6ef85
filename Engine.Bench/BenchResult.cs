using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.Bench;

/// <summary>
/// One benchmark case, printed as one JSON line: suite, case, threads, median_ms (per call) and, where they apply,
/// gflops (from the median) or gb_per_s; min_ms, q1_ms and q3_ms show the spread of the samples; samples and
/// calls_per_sample say how the median was taken; device names the device when it is not the CPU (gpu(0),
/// gpusim(0)). The memory suite adds planned_bytes and unplanned_bytes.
/// </summary>
public sealed record BenchResult(string Suite, string Case, int Threads, double MedianMs, double MinMs, double Q1Ms,
    double Q3Ms, int Samples, int CallsPerSample, double? Gflops = null, double? GbPerS = null, string? Device = null,
    long? PlannedBytes = null, long? UnplannedBytes = null)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // "->" in case names stays readable
    };

    public string ToJson() => JsonSerializer.Serialize(this with
    {
        MedianMs = Round(MedianMs), MinMs = Round(MinMs), Q1Ms = Round(Q1Ms), Q3Ms = Round(Q3Ms),
        Gflops = Gflops is double g ? Math.Round(g, 2) : null, GbPerS = GbPerS is double b ? Math.Round(b, 2) : null,
    }, JsonOptions);

    /// <summary>Four significant digits: more would only print noise.</summary>
    private static double Round(double ms) =>
        ms <= 0 ? ms : Math.Round(ms, Math.Clamp(3 - (int)Math.Floor(Math.Log10(ms)), 0, 15));
}
