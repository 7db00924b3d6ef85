namespace Engine.Bench;

/// <summary>
/// A case set up to run: the body a suite times and what it owns (a model, its inputs, buffers), disposed with it.
/// Suites that share a case with another (vs-torch with train, infer and gemm) build it through the same set-up.
/// </summary>
public sealed class CaseBody(Action run, params IDisposable[] owned) : IDisposable
{
    public Action Run => run;

    public void Dispose()
    {
        foreach (var o in owned) o.Dispose();
    }
}
