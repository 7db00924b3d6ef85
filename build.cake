// Engine build targets. Run with: dotnet tool restore && dotnet cake --target=<Target>
//   Build        dotnet build -c Release (warnings are errors)
//   Test         the whole NUnit suite; results in artifacts/test-results/*.trx
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

void RunTests(string testFilter, string resultName)
{
    CleanDirectory(testResults);
    var args = new ProcessArgumentBuilder()
        .Append("test").Append("Engine.Tests/Engine.Tests.csproj")
        .Append("-c").Append(configuration)
        .Append("--no-build")
        .Append("--logger").AppendQuoted($"trx;LogFileName={resultName}.trx")
        .Append("--results-directory").AppendQuoted(testResults.ToString());
    if (!string.IsNullOrEmpty(testFilter)) args.Append("--filter").AppendQuoted(testFilter);
    int code = StartProcess("dotnet", new ProcessSettings { Arguments = args });
    if (code != 0) throw new Exception($"dotnet test failed with exit code {code}");
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
    var output = artifacts + File($"bench-{suite}.jsonl");
    EnsureDirectoryExists(artifacts);
    int code = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"run -c {configuration} --no-build --project Engine.Bench -- {suite} --threads {threads} " +
                    $"--baseline --out {output}",
    });
    if (code != 0) throw new Exception($"Engine.Bench failed with exit code {code}");
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
