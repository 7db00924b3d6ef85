using System.Text.Json;

namespace Engine.Bench;

/// <summary>
/// The shapes the gemm, conv (with deconv) and layers suites run, read from tools/bench/cases.json (embedded in this
/// assembly): the same file tools/bench/torch_baseline.py reads, so both harnesses run the same cases under the same
/// names.
/// </summary>
public sealed record BenchCases(GemmCase[] Gemm, ConvCase[] Conv, DeconvCase[] Deconv, LayerCase[] Layers)
{
    private static readonly Lazy<BenchCases> Shared = new(Load);

    public static BenchCases Current => Shared.Value;

    private static BenchCases Load()
    {
        using var stream = typeof(BenchCases).Assembly.GetManifestResourceStream("cases.json")
            ?? throw new InvalidOperationException(
                "Engine.Bench: the embedded cases.json is missing; rebuild Engine.Bench (it embeds " +
                "tools/bench/cases.json).");
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        return JsonSerializer.Deserialize<BenchCases>(stream, options)
            ?? throw new InvalidOperationException("Engine.Bench: cases.json is empty.");
    }
}
