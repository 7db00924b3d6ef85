using System.Xml.Linq;

namespace Engine.ConformanceCheck;

/// <summary>
/// A Visual Studio test results file (.trx) holding only the run's summary: its counters (as `dotnet test` writes
/// them) and the failures' names and messages, so that tools which sum the counters of every .trx (.ci/run) count
/// this run with the others.
/// </summary>
internal static class TrxSummary
{
    private static readonly XNamespace Ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    public static void Write(string path, string name, ResultCounter results)
    {
        int total = results.Passed + results.Failed + results.Skipped;
        var counters = new XElement(Ns + "Counters",
            new XAttribute("total", total), new XAttribute("executed", results.Passed + results.Failed),
            new XAttribute("passed", results.Passed), new XAttribute("failed", results.Failed),
            new XAttribute("error", 0), new XAttribute("notExecuted", results.Skipped));
        var output = new XElement(Ns + "Output", new XElement(Ns + "StdOut", string.Join("\n", results.Failures)));
        var run = new XElement(Ns + "TestRun", new XAttribute("id", Guid.NewGuid()), new XAttribute("name", name),
            new XElement(Ns + "ResultSummary", new XAttribute("outcome", results.Failed == 0 ? "Completed" : "Failed"),
                counters, output));
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        new XDocument(run).Save(path);
    }
}
