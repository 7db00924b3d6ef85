// Engine build targets. Run with: dotnet tool restore && dotnet cake --target=<Target>
//   Build        dotnet build -c Release (warnings are errors)
//   Test         both NUnit suites (Engine.Tests, Engine.Tests.Gpu), then the conformance suite on the narrower
//                instruction-set paths forced and on ARM64 emulated where QEMU is installed (--paths=none skips
//                them); results in artifacts/test-results/*.trx
//   Conformance  only the kernel conformance suite (NUnit category "Conformance")
//   ConformancePaths  the conformance suite once per instruction-set path (Vector512, Vector256, Vector128,
//                scalar), each forced with the .NET runtime's knobs; --paths=Vector256,Scalar runs a subset
//   ConformanceArm64  the conformance suite as ARM64 code (AdvSimd), emulated by QEMU on x86-64
//                (tools/arm64-check.sh; its --install step first, as root); --filter=REGEX picks tests by full name
//   Bench        Engine.Bench suites (JSON lines) beside the PyTorch baseline in tools/bench; --path=Vector256
//                forces the engine's AVX2 path and OpenBLAS's and oneDNN's AVX2 kernels
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

void RunTests(string testFilter, string resultName, IDictionary<string, string> environment = null,
    bool clean = true, string[] projects = null)
{
    if (clean) CleanDirectory(testResults);
    var failures = new List<string>();
    foreach (var project in projects ?? testProjects)
    {
        string name = System.IO.Path.GetFileNameWithoutExtension(project);
        var args = new ProcessArgumentBuilder()
            .Append("test").Append(project)
            .Append("-c").Append(configuration)
            .Append("--no-build")
            .Append("--logger").AppendQuoted($"trx;LogFileName={resultName}-{name}.trx")
            .Append("--results-directory").AppendQuoted(testResults.ToString());
        if (!string.IsNullOrEmpty(testFilter)) args.Append("--filter").AppendQuoted(testFilter);
        int code = StartProcess("dotnet", new ProcessSettings { Arguments = args, EnvironmentVariables = environment });
        if (code != 0) failures.Add($"{name} (exit code {code})");
    }
    if (failures.Count > 0) throw new Exception($"dotnet test ({resultName}) failed: {string.Join(", ", failures)}");
}

Task("Build")
    .Does(() =>
{
    DotNetBuild("Engine.sln", new DotNetBuildSettings { Configuration = configuration });
});

// The default run: both suites, then (unless --filter picks tests or --paths=none) the conformance suite on the
// instruction-set paths narrower than this machine's, each forced with the runtime's knobs, so that every path's
// kernels are checked on every run (CI included). Results of all runs go to artifacts/test-results.
Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    RunTests(filter, "tests");
    var forced = Argument("paths", "Vector256,Vector128,Scalar,Arm64");
    if (string.IsNullOrEmpty(filter) && forced != "none")
    {
        RunConformancePaths(forced.Split(',').Where(NarrowerThanNative).ToArray(), clean: false);
        if (forced.Split(',').Contains("Arm64")) RunArm64Conformance(required: false);
    }
});

Task("Conformance")
    .IsDependentOn("Build")
    .Does(() => RunTests("TestCategory=Conformance", "conformance"));

// The .NET runtime's knobs that hide wider instruction sets from the JIT, as Engine.Kernels' CpuInstructionSet
// lists them (both spellings of the AVX-512 one: .NET 8 and 9 read EnableAVX512F, .NET 10 EnableAVX512).
Dictionary<string, string> ForcePath(string path) => path switch
{
    "Vector512" => new Dictionary<string, string>(),
    "Vector256" => new Dictionary<string, string> { ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX512F"] = "0" },
    "Vector128" => new Dictionary<string, string> { ["DOTNET_EnableAVX2"] = "0" },
    "Scalar" => new Dictionary<string, string> { ["DOTNET_EnableHWIntrinsic"] = "0" },
    _ => throw new Exception($"unknown instruction-set path '{path}'; use Vector512, Vector256, Vector128 or Scalar"),
};

bool CpuHasFlag(string flag) =>
    FileExists("/proc/cpuinfo") && System.IO.File.ReadLines("/proc/cpuinfo")
        .Where(l => l.StartsWith("flags")).Take(1).Any(l => l.Split(' ').Contains(flag));

// The path the runtime picks here unforced: Vector512 with AVX-512, Vector256 with AVX2, else Vector128.
string NativePath() => !(FileExists("/proc/cpuinfo") && CpuHasFlag("sse2")) ? "Vector128"
    : CpuHasFlag("avx512f") ? "Vector512" : CpuHasFlag("avx2") ? "Vector256" : "Vector128";

// Only narrower paths can be forced; on ARM64 the x86 knobs mean nothing, so only the scalar path is forced there.
bool NarrowerThanNative(string path)
{
    var order = new[] { "Scalar", "Vector128", "Vector256", "Vector512" };
    bool x86 = FileExists("/proc/cpuinfo") && CpuHasFlag("sse2");
    if (!x86) return path == "Scalar";
    return Array.IndexOf(order, path) >= 0 && Array.IndexOf(order, path) < Array.IndexOf(order, NativePath());
}

Task("ConformancePaths")
    .IsDependentOn("Build")
    .Does(() => RunConformancePaths(Argument("paths", "Vector512,Vector256,Vector128,Scalar").Split(','),
        clean: true));

void RunConformancePaths(string[] paths, bool clean)
{
    // Each run checks bit-identical results across thread counts as the default run does; InstructionSetPathTests
    // fails a run whose knob the runtime ignored (ENGINE_TEST_CPU_PATH says what was asked for).
    if (clean) CleanDirectory(testResults);
    foreach (var path in paths)
    {
        bool x86 = FileExists("/proc/cpuinfo") && CpuHasFlag("sse2");
        if (path == "Vector512" && x86 && !CpuHasFlag("avx512f"))
        {
            Information("Vector512: this CPU has no AVX-512; skipped (the Vector256 run covers its default path)");
            continue;
        }
        var environment = ForcePath(path);
        environment["ENGINE_TEST_CPU_PATH"] = path;
        Information($"Conformance on the {path} path: " +
                    (environment.Count == 1 ? "no knob" : string.Join(" ", environment.Keys.Where(k =>
                        k.StartsWith("DOTNET_")).Select(k => $"{k}={environment[k]}"))));
        RunTests("TestCategory=Conformance", $"conformance-{path}", environment, clean: false,
            projects: new[] { testProjects[0] });
    }
}

Task("ConformanceArm64")
    .Does(() => RunArm64Conformance(required: true));

// The conformance suite as ARM64 code (the Vector128 kernels on AdvSimd), emulated on x86-64 by QEMU in user mode
// (tools/arm64-check.sh; about three minutes on the 2-core machine). The default run includes it where the
// emulation is installed (.ci/run installs it); the ConformanceArm64 target requires it.
void RunArm64Conformance(bool required)
{
    bool x86 = FileExists("/proc/cpuinfo") && CpuHasFlag("sse2");
    if (!x86 && !required)
    {
        Information("ARM64: not emulated on this machine; on ARM64 the suites above ran natively");
        return;
    }
    if (x86 && (!FileExists("/usr/bin/qemu-aarch64-static") || !FileExists("/lib/ld-linux-aarch64.so.1")))
    {
        string missing = "QEMU's user-mode emulation and the ARM64 C libraries are not installed " +
            "(as root: tools/arm64-check.sh --install)";
        if (required) throw new Exception($"ARM64: {missing}");
        Information($"ARM64: skipped, {missing}");
        return;
    }
    string trx = (testResults + File("conformance-Arm64.trx")).ToString();
    string arguments = $"--trx \"{trx}\"" + (string.IsNullOrEmpty(filter) ? "" : $" --filter \"{filter}\"");
    Information($"Conformance on ARM64 (AdvSimd){(x86 ? ", emulated" : "")}: tools/arm64-check.sh {arguments}");
    int exit = StartProcess("tools/arm64-check.sh", new ProcessSettings { Arguments = arguments });
    if (exit != 0) throw new Exception($"the ARM64 conformance run failed (exit code {exit})");
}

Task("Bench")
    .IsDependentOn("Build")
    .Does(() =>
{
    // --suite=gemm|conv|layers|train|infer|elementwise, several comma-separated, or all
    // (gemm,conv,layers,train,infer);
    // --threads=1 or 1,2; optional --repeat=R and --budget=SECONDS per case, --rounds=N (engine and torch run
    // alternately N times; compare.py keeps each case's best median). Results: artifacts/bench/*.jsonl, compare.md.
    var suites = suite == "all" ? new[] { "gemm", "conv", "layers", "train", "rnn", "infer" } : suite.Split(',');
    var threadCounts = threads.Split(',');
    var repeat = Argument("repeat", "");
    var budget = Argument("budget", "");
    int rounds = Argument("rounds", 1);
    // --path=Vector256 (or Vector128, Scalar) forces the engine's instruction-set path and the peers' to match:
    // OpenBLAS's core type and oneDNN's maximum ISA (docs/performance.md).
    var path = Argument("path", "");
    var engineEnvironment = path == "" ? null : ForcePath(path);
    var torchEnvironment = path switch
    {
        "" or "Vector512" => null,
        "Vector256" => new Dictionary<string, string>
        {
            ["OPENBLAS_CORETYPE"] = "Haswell", ["ONEDNN_MAX_CPU_ISA"] = "AVX2", ["DNNL_MAX_CPU_ISA"] = "AVX2",
            ["ATEN_CPU_CAPABILITY"] = "avx2",
        },
        "Vector128" => new Dictionary<string, string>
        {
            ["OPENBLAS_CORETYPE"] = "Nehalem", ["ONEDNN_MAX_CPU_ISA"] = "SSE41", ["DNNL_MAX_CPU_ISA"] = "SSE41",
            ["ATEN_CPU_CAPABILITY"] = "default",
        },
        _ => new Dictionary<string, string>
        {
            ["OPENBLAS_CORETYPE"] = "Prescott", ["ONEDNN_MAX_CPU_ISA"] = "SSE41", ["DNNL_MAX_CPU_ISA"] = "SSE41",
            ["ATEN_CPU_CAPABILITY"] = "default",
        },
    };
    if (path != "")
        Information($"Instruction-set path {path}: engine " +
                    string.Join(" ", engineEnvironment.Select(e => $"{e.Key}={e.Value}")) + "; torch " +
                    (torchEnvironment is null ? "as detected"
                        : string.Join(" ", torchEnvironment.Select(e => $"{e.Key}={e.Value}"))));
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
                    EnvironmentVariables = engineEnvironment,
                });
                if (code != 0) throw new Exception($"Engine.Bench {s} failed with exit code {code}");
                engineFiles.Add(engineOut);
                if (!hasTorch) continue;
                string torchOut = (benchDir + File($"torch-{tag}.jsonl")).ToString();
                Information($"torch_baseline.py {s} --threads {t} (round {round} of {rounds})");
                code = StartProcess(python, new ProcessSettings
                {
                    Arguments = $"tools/bench/torch_baseline.py {s} --threads {t}{options} --out {torchOut}",
                    EnvironmentVariables = torchEnvironment,
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
