using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.Bench;

/// <summary>
/// One benchmark case, printed as one JSON line: suite, case, threads, median_ms (per call) and, where they apply,
/// gflops (from the median) or gb_per_s; min_ms, q1_ms and q3_ms show the spread of the samples; samples and
/// calls_per_sample say how the median was taken; device names the device when it is not the CPU (gpu(0),
/// gpusim(0)). The memory suite adds planned_bytes and unplanned_bytes. The gemm-vs-blas suite adds the peer it
/// alternated with (peer, peer_min_ms, peer_median_ms) and ratio, the engine's speed over the peer's from each side's
/// fastest call (there gflops and gb_per_s are from the fastest call too). The vs-torch suite adds the same fields
/// with peer "torch", but its ratio and median_ratio are of times, engine / PyTorch (below 1: the engine is faster),
/// as compare.py divides the two sides' medians.
/// </summary>
public sealed record BenchResult(string Suite, string Case, int Threads, double MedianMs, double MinMs, double Q1Ms,
    double Q3Ms, int Samples, int CallsPerSample, double? Gflops = null, double? GbPerS = null, string? Device = null,
    long? PlannedBytes = null, long? UnplannedBytes = null, string? Peer = null, double? PeerMinMs = null,
    double? PeerMedianMs = null, double? Ratio = null, double? MedianRatio = null)
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
        PeerMinMs = PeerMinMs is double pm ? Round(pm) : null,
        PeerMedianMs = PeerMedianMs is double pd ? Round(pd) : null,
        Ratio = Ratio is double r ? Math.Round(r, 3) : null,
        MedianRatio = MedianRatio is double q ? Math.Round(q, 3) : null,
    }, JsonOptions);

    /// <summary>Four significant digits: more would only print noise.</summary>
    private static double Round(double ms) =>
        ms <= 0 ? ms : Math.Round(ms, Math.Clamp(3 - (int)Math.Floor(Math.Log10(ms)), 0, 15));
}
