using Engine.Graphs;

namespace Engine.Tests;

/// <summary>
/// Every compiled graph the tests run checks that no launch reads a planned buffer after another value overwrote
/// it, so each equivalence test of hybridize also tests the memory plan it executes with.
/// </summary>
[SetUpFixture]
public class ExecutorChecks
{
    private bool previous;

    [OneTimeSetUp]
    public void CheckEveryRead()
    {
        previous = CompiledGraph.CheckReads;
        CompiledGraph.CheckReads = true;
    }

    [OneTimeTearDown]
    public void Restore() => CompiledGraph.CheckReads = previous;
}
