// Engine build targets. Run with: dotnet tool restore && dotnet cake --target=<Target>
//   Build        dotnet build -c Release (warnings are errors)
//   Test         both NUnit suites (Engine.Tests, Engine.Tests.Gpu); results in artifacts/test-results/*.trx
//   Conformance  only the kernel conformance suite (NUnit category "Conformance")
//   Bench        Engine.Bench suites (JSON lines) beside the PyTorch baseline in tools/bench
//   Pack         NuGet packages of Engine.Kernels, Engine.Core and Engine.Gluon into artifacts/packages

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var filter = Argument("filter", "");
var suite = Argument("suite", "gemm");
var threads = Argument("threads", "1");

var artifacts = Directory("./artifacts");
var testResults = artifacts + Directory("test-results");

// The main suite, then the GPU suite in its own test host (a fault inside a kernel on the simulated GPU ends the
// process, which must not take the main suite with it). One .trx per project; .ci/run sums them.
var testProjects = new[] { "Engine.Tests/Engine.Tests.csproj", "Engine.Tests.Gpu/Engine.Tests.Gpu.csproj" };

void RunTests(string testFilter, string resultName)
{
    CleanDirectory(testResults);
    var failures = new List<string>();
    foreach (var project in testProjects)
    {
        string name = System.IO.Path.GetFileNameWithoutExtension(project);
        var args = new ProcessArgumentBuilder()
            .Append("test").Append(project)
            .Append("-c").Append(configuration)
            .Append("--no-build")
            .Append("--logger").AppendQuoted($"trx;LogFileName={resultName}-{name}.trx")
            .Append("--results-directory").AppendQuoted(testResults.ToString());
        if (!string.IsNullOrEmpty(testFilter)) args.Append("--filter").AppendQuoted(testFilter);
        int code = StartProcess("dotnet", new ProcessSettings { Arguments = args });
        if (code != 0) failures.Add($"{name} (exit code {code})");
    }
    if (failures.Count > 0) throw new Exception($"dotnet test failed: {string.Join(", ", failures)}");
}

Task("Build")
    .Does(() =>
{
    DotNetBuild("Engine.sln", new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .IsDependentOn("Build")
    .Does(() => RunTests(filter, "tests"));

Task("Conformance")
    .IsDependentOn("Build")
    .Does(() => RunTests("TestCategory=Conformance", "conformance"));

Task("Bench")
    .IsDependentOn("Build")
    .Does(() =>
{
    // --suite=gemm|conv|layers|train|elementwise, several comma-separated, or all (gemm,conv,layers,train);
    // --threads=1 or 1,2; optional --repeat=R and --budget=SECONDS per case, --rounds=N (engine and torch run
    // alternately N times; compare.py keeps each case's best median). Results: artifacts/bench/*.jsonl, compare.md.
    var suites = suite == "all" ? new[] { "gemm", "conv", "layers", "train" } : suite.Split(',');
    var threadCounts = threads.Split(',');
    var repeat = Argument("repeat", "");
    var budget = Argument("budget", "");
    int rounds = Argument("rounds", 1);
    var benchDir = artifacts + Directory("bench");
    EnsureDirectoryExists(benchDir);
    CleanDirectory(benchDir);
    string options = (repeat == "" ? "" : $" --repeat {repeat}") + (budget == "" ? "" : $" --budget {budget}");

    const string python = "/usr/bin/python3";
    bool hasPython = FileExists(python);
    bool hasTorch = hasPython && StartProcess(python, new ProcessSettings
    {
        Arguments = "-c \"import torch\"", RedirectStandardOutput = true, RedirectStandardError = true,
    }) == 0;
    if (!hasTorch)
        Warning($"No PyTorch baseline: {(hasPython ? "torch does not import in " + python : python + " is missing")}" +
                " (install Debian's python3-torch). Showing the engine's numbers only.");

    var engineFiles = new List<string>();
    var torchFiles = new List<string>();
    for (int round = 1; round <= rounds; round++)
    {
        foreach (var s in suites)
        {
            foreach (var t in threadCounts)
            {
                string tag = $"{s}-t{t}-r{round}";
                string engineOut = (benchDir + File($"engine-{tag}.jsonl")).ToString();
                Information($"Engine.Bench {s} --threads {t} (round {round} of {rounds})");
                int code = StartProcess("dotnet", new ProcessSettings
                {
                    Arguments = $"run -c {configuration} --no-build --project Engine.Bench -- {s} --threads {t}" +
                                $"{options} --out {engineOut}",
                });
                if (code != 0) throw new Exception($"Engine.Bench {s} failed with exit code {code}");
                engineFiles.Add(engineOut);
                if (!hasTorch) continue;
                string torchOut = (benchDir + File($"torch-{tag}.jsonl")).ToString();
                Information($"torch_baseline.py {s} --threads {t} (round {round} of {rounds})");
                code = StartProcess(python, new ProcessSettings
                {
                    Arguments = $"tools/bench/torch_baseline.py {s} --threads {t}{options} --out {torchOut}",
                });
                if (code != 0) throw new Exception($"torch_baseline.py {s} failed with exit code {code}");
                torchFiles.Add(torchOut);
            }
        }
    }

    if (!hasPython) return; // Engine.Bench printed its JSON lines above; the table needs python3.
    string markdown = (benchDir + File("compare.md")).ToString();
    string torchArgs = torchFiles.Count == 0 ? "" : " --torch " + string.Join(" ", torchFiles);
    int compare = StartProcess(python, new ProcessSettings
    {
        Arguments = $"tools/bench/compare.py --engine {string.Join(" ", engineFiles)}{torchArgs} --markdown {markdown}",
    });
    if (compare != 0) throw new Exception($"compare.py failed with exit code {compare}");
    Information($"Table written to {markdown}");
});

Task("Pack")
    .IsDependentOn("Build")
    .Does(() =>
{
    foreach (var project in new[] { "Engine.Kernels", "Engine.Core", "Engine.Gluon" })
    {
        DotNetPack($"{project}/{project}.csproj", new DotNetPackSettings
        {
            Configuration = configuration,
            NoBuild = true,
            OutputDirectory = artifacts + Directory("packages"),
        });
    }
});

RunTarget(target);
