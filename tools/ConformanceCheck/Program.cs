using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security;
using Engine.ConformanceCheck;
using Engine.Kernels.Cpu;
using NUnit.Framework.Api;
using NUnit.Framework.Internal;

// conformance-check: Engine.Tests without a test host, through NUnit's own in-process runner, for a runtime that
// `dotnet test` cannot start, such as ARM64 under user-mode emulation (tools/arm64-check.sh).
//   ConformanceCheck [--category NAME] [--filter REGEX] [--verbose] [--trx FILE]
// --category picks an NUnit category (default Conformance; "all" for every test), --filter a regular expression
// on the tests' full names, --trx writes the counts as a results file (.ci/run sums the counters of every .trx).
// The last line is "N passed, N failed, N skipped"; the exit code is 1 when any failed.
string category = "Conformance";
string? filter = null, trx = null;
bool verbose = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--category" when i + 1 < args.Length: category = args[++i]; break;
        case "--filter" when i + 1 < args.Length: filter = args[++i]; break;
        case "--trx" when i + 1 < args.Length: trx = args[++i]; break;
        case "--verbose": verbose = true; break;
        default:
            Console.Error.WriteLine($"conformance-check: unknown option or missing value '{args[i]}'; use " +
                "--category NAME, --filter REGEX, --trx FILE or --verbose.");
            return 2;
    }
}

var conditions = new List<string>();
if (category != "all") conditions.Add($"<cat>{SecurityElement.Escape(category)}</cat>");
if (filter is not null) conditions.Add($"<test re=\"1\">{SecurityElement.Escape(filter)}</test>");
var selection = conditions.Count == 0 ? TestFilter.Empty
    : TestFilter.FromXml($"<filter><and>{string.Concat(conditions)}</and></filter>");

Console.WriteLine($"{RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, .NET " +
    $"{Environment.Version}; CPU kernels {CpuInstructionSet.Describe()}");
var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
runner.Load(typeof(Engine.Tests.Conformance.ConvolutionConformanceTests).Assembly, new Dictionary<string, object>());
var listener = new ResultCounter(Console.Out, verbose);
var watch = Stopwatch.StartNew();
runner.Run(listener, selection);
Console.WriteLine($"{listener.Passed + listener.Failed + listener.Skipped} tests ({category}" +
    (filter is null ? "" : $", filter {filter}") + $") in {watch.Elapsed.TotalSeconds:F0} s");
if (trx is not null) TrxSummary.Write(trx, $"ConformanceCheck on {RuntimeInformation.ProcessArchitecture}", listener);
Console.WriteLine($"{listener.Passed} passed, {listener.Failed} failed, {listener.Skipped} skipped");
return listener.Failed == 0 ? 0 : 1;
