using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// Benchmarks print one JSON object per line (see <see cref="BenchResult"/>).
/// Usage: dotnet run -c Release --project Engine.Bench -- SUITE [--threads N] [--device cpu|cuda:0|gpusim]
/// [--repeat R] [--budget SECONDS] [--filter TEXT] [--out FILE]. Suites: elementwise, gemm, conv, layers, train,
/// fusion, hybridize, memory, rnn, infer, gemm-vs-blas, vs-torch
/// (the engine and PyTorch in turns).
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
        ["fusion"] = FusionSuite.Run,
        ["hybridize"] = HybridizeSuite.Run,
        ["memory"] = MemorySuite.Run,
        ["rnn"] = RnnSuite.Run,
        ["infer"] = InferSuite.Run,
        ["gemm-vs-blas"] = BlasSuite.Run,
        ["vs-torch"] = VsTorchSuite.Run,
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
        var context = new BenchContext(options);
        if (context.DeviceProblem() is { } problem)
        {
            Console.Error.WriteLine($"Engine.Bench: --device {options.Device}: {problem}");
            return 3;
        }
        CpuParallel.MaxThreads = options.Threads;
        Console.Error.WriteLine($"Engine.Bench: {context.DescribeDevice()}");
        // Suites that build arrays through Nd get the chosen device from this scope.
        using var onDevice = DefaultDevice.Use(options.Device);
        using var writer = options.OutFile is null ? null : new StreamWriter(options.OutFile);
        try
        {
            foreach (var result in suite(context))
            {
                string line = result.ToJson();
                Console.WriteLine(line);
                writer?.WriteLine(line);
                writer?.Flush();
            }
        }
        catch (PeerFailedException e)
        {
            Console.Error.WriteLine($"Engine.Bench {options.Suite}: {e.Message}");
            return 4;
        }
        return 0;
    }
}
