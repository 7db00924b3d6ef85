using System.Diagnostics;
using Engine;
using Engine.Gluon;
using Engine.IO;

// Runs any MXNet 1.x export (PREFIX-symbol.json + PREFIX-NNNN.params) on .npy inputs and writes .npy outputs.
const string usage =
    "usage: dotnet run -c Release --project samples/ModelRunner -- --symbol F-symbol.json [--params F-NNNN.params] " +
    "--input x.npy [--input x2.npy ...] [--input-name data ...] --output y.npy [--repeat N]";

try
{
    return Run(args);
}
catch (Exception e)
{
    // Bad files and arguments end in one line, never a stack trace.
    string message = e.Message.Split('\n')[0];
    Console.Error.WriteLine($"error: {message}");
    return 1;
}

int Run(string[] args)
{
    string? symbolFile = null, paramsFile = null, output = null;
    var inputs = new List<string>();
    var names = new List<string>();
    int repeat = 10;
    for (int i = 0; i < args.Length; i++)
    {
        string flag = args[i];
        string Value() => i + 1 < args.Length ? args[++i]
            : throw new ArgumentException($"{flag} needs a value. {usage}");
        switch (flag)
        {
            case "--symbol": symbolFile = Value(); break;
            case "--params": paramsFile = Value(); break;
            case "--input": inputs.Add(Value()); break;
            case "--input-name": names.Add(Value()); break;
            case "--output": output = Value(); break;
            case "--repeat":
                repeat = int.TryParse(Value(), out int r) && r > 0 ? r
                    : throw new ArgumentException("--repeat needs a positive integer.");
                break;
            case "-h" or "--help":
                Console.WriteLine(usage);
                return 0;
            default: throw new ArgumentException($"unknown option '{flag}'. {usage}");
        }
    }
    if (symbolFile is null || inputs.Count == 0 || output is null) throw new ArgumentException(usage);
    if (names.Count == 0) names = inputs.Count == 1 ? ["data"] : inputs.Select((_, k) => $"data{k}").ToList();
    if (names.Count != inputs.Count)
        throw new ArgumentException($"{inputs.Count} --input files but {names.Count} --input-name values.");

    var block = SymbolBlock.Imports(symbolFile, names, paramsFile);
    var arrays = inputs.Select(path =>
    {
        var npy = NpyFile.Read(path);
        return Nd.Array(npy.ToFloat32(), npy.Shape);
    }).ToArray();
    var symbol = block.Symbol;
    Console.WriteLine($"model {symbolFile}");
    for (int k = 0; k < names.Count; k++) Console.WriteLine($"input  {names[k]}: {arrays[k].Shape} from {inputs[k]}");
    Console.WriteLine($"outputs: {string.Join(", ", symbol.ListOutputs())}");
    var counts = symbol.Nodes.Where(n => !n.IsVariable).GroupBy(n => n.Op).OrderByDescending(g => g.Count())
        .ThenBy(g => g.Key, StringComparer.Ordinal);
    Console.WriteLine($"operators: {string.Join(", ", counts.Select(g => $"{g.Key} {g.Count()}"))}");
    Console.WriteLine($"parameters: {block.CollectParams().Count}, " +
                      $"{block.CollectParams().Values.Sum(p => p.Shape.Size)} values");

    block.Hybridize();
    var results = block.CallMany(arrays);
    var clock = Stopwatch.StartNew();
    for (int k = 0; k < repeat; k++)
    {
        foreach (var y in block.CallMany(arrays)) y.Dispose();
    }
    Console.WriteLine($"time per call: {clock.Elapsed.TotalMilliseconds / repeat:F3} ms ({repeat} calls, hybridized, " +
                      $"{Environment.ProcessorCount} processors)");

    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
    for (int k = 0; k < results.Length; k++)
    {
        string path = results.Length == 1 ? output : Indexed(output, k);
        using var y32 = results[k].AsType(DType.Float32);
        NpyFile.Write(path, NpyArray.FromFloat32(results[k].Shape, y32.ToArray()));
        Console.WriteLine($"output {symbol.ListOutputs()[k]}: {results[k].Shape} -> {path}");
    }
    return 0;
}

static string Indexed(string path, int k)
{
    string dir = Path.GetDirectoryName(path) ?? "";
    string stem = Path.GetFileNameWithoutExtension(path);
    string ext = Path.GetExtension(path);
    return Path.Combine(dir, $"{stem}_{k}{(ext.Length > 0 ? ext : ".npy")}");
}
