using System.Diagnostics;
using Engine.Gluon;
using Engine.IO;

namespace Engine.Tests.Graphs;

/// <summary>
/// tools/mxnet_export_check.py, an independent reader (standard library and NumPy), parses our exported files and
/// checks MXNet's layout. Skipped where /usr/bin/python3 with NumPy is not installed.
/// </summary>
public class ExportCheckerTests
{
    private const string Python = "/usr/bin/python3";

    internal static (int Code, string Output) RunChecker(params string[] args)
    {
        string? root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "Engine.sln"))) root = Path.GetDirectoryName(root);
        if (root is null) Assert.Ignore("the repository root (Engine.sln) is not above the test binaries");
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(root!, "tools", "mxnet_export_check.py"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    internal static void RequirePython()
    {
        if (!File.Exists(Python)) Assert.Ignore($"{Python} is not installed");
        using var p = Process.Start(new ProcessStartInfo(Python, "-c \"import numpy\"")
        {
            RedirectStandardError = true, UseShellExecute = false,
        })!;
        p.WaitForExit();
        if (p.ExitCode != 0) Assert.Ignore("NumPy is not installed for /usr/bin/python3");
    }

    [Test]
    public void IndependentReaderAcceptsOurExportAndRejectsABrokenOne()
    {
        RequirePython();
        string dir = Path.Combine(Path.GetTempPath(), "engine-check-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var net = ExportImportTests.ConvBatchNorm();
            net.Initialize();
            net.Hybridize();
            using (var x = ExportImportTests.Input(1, 2, 3, 8, 8)) net.Call(x).Dispose();
            var (symbolFile, paramsFile) = net.Export(Path.Combine(dir, "convbn"));
            var (code, output) = RunChecker(symbolFile, paramsFile);
            output.Trim().ShouldBe("ok");
            code.ShouldBe(0);

            // Drop one auxiliary state: the checker must notice.
            var kept = MXNetParams.Load(paramsFile).Where(p => !p.Key.EndsWith("running_var")).ToList();
            MXNetParams.Save(paramsFile, kept);
            (code, output) = RunChecker(symbolFile, paramsFile);
            code.ShouldBe(1);
            output.ShouldContain("no value for aux:");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
