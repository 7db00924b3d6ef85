using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// Benchmarks print one JSON object per line (see <see cref="BenchResult"/>).
/// Usage: dotnet run -c Release --project Engine.Bench -- SUITE [--threads N] [--device cpu|cuda] [--repeat R]
/// [--budget SECONDS] [--filter TEXT] [--out FILE]. Suites: elementwise, gemm, conv, layers, train, infer.
/// tools/bench/torch_baseline.py runs the same cases with PyTorch; docs/performance.md explains the comparison.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<BenchContext, IEnumerable<BenchResult>>> Suites = new()
    {
        ["elementwise"] = ElementwiseSuite.Run,
        ["gemm"] = GemmSuite.Run,
        ["conv"] = ConvSuite.Run,
        ["layers"] = LayersSuite.Run,
        ["train"] = TrainSuite.Run,
        ["infer"] = InferSuite.Run,
    };

    public static int Main(string[] args)
    {
        string suites = string.Join(", ", Suites.Keys);
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine($"{BenchOptions.Usage}\nsuites: {suites}");
            return args.Length == 0 ? 2 : 0;
        }
        if (!Suites.TryGetValue(args[0], out var suite))
        {
            Console.Error.WriteLine($"Engine.Bench: unknown suite '{args[0]}'; suites: {suites}.");
            return 2;
        }
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args[0], args[1..]);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"Engine.Bench: {e.Message}");
            return 2;
        }
        if (options.Device != "cpu")
        {
            Console.Error.WriteLine(
                $"Engine.Bench: --device {options.Device}: these suites measure the CPU kernels. The GPU backend's " +
                "benchmarks (SGEMM against cuBLAS, elementwise and reductions against copy bandwidth) run with " +
                "tools/gpu-check.sh --suite bench --device cuda:0 (see docs/gpu.md).");
            return 3;
        }

        CpuParallel.MaxThreads = options.Threads;
        Console.Error.WriteLine($"Engine.Bench: CPU kernels {CpuInstructionSet.Describe()}, {options.Threads} threads");
        var context = new BenchContext(options);
        using var writer = options.OutFile is null ? null : new StreamWriter(options.OutFile);
        foreach (var result in suite(context))
        {
            string line = result.ToJson();
            Console.WriteLine(line);
            writer?.WriteLine(line);
            writer?.Flush();
        }
        return 0;
    }
}
