using NUnit.Framework.Interfaces;

namespace Engine.ConformanceCheck;

/// <summary>
/// Counts the results of the test cases NUnit's runner reports (suites are not counted) and prints every failure
/// with its message, and with <c>verbose</c> every test with its time. Called from the runner's workers, so the
/// counts and the writer are guarded by one lock.
/// </summary>
internal sealed class ResultCounter(TextWriter log, bool verbose) : ITestListener
{
    private readonly Lock gate = new();

    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public int Skipped { get; private set; }

    /// <summary>Each failed test's full name and message.</summary>
    public List<string> Failures { get; } = new();

    public void TestStarted(ITest test)
    {
    }

    public void TestFinished(ITestResult result)
    {
        if (result.Test.IsSuite)
        {
            // A fixture whose one-time setup failed fails its cases without running them; they report here.
            return;
        }
        lock (gate)
        {
            var status = result.ResultState.Status;
            if (status == TestStatus.Passed) Passed++;
            else if (status == TestStatus.Failed) Failed++;
            else Skipped++;
            if (status == TestStatus.Failed)
            {
                Failures.Add($"{result.FullName}: {result.Message?.Trim()}");
                log.WriteLine($"FAIL {result.FullName}\n     {result.Message?.Trim().Replace("\n", "\n     ")}");
            }
            else if (verbose)
            {
                string verdict = status == TestStatus.Passed ? "pass" : "skip";
                log.WriteLine($"{verdict} {result.Duration * 1000,8:F0} ms  {result.FullName}");
            }
        }
    }

    public void TestOutput(TestOutput output)
    {
    }

    public void SendMessage(TestMessage message)
    {
    }
}
