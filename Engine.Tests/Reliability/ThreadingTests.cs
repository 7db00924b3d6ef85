namespace Engine.Tests.Reliability;

public class ThreadingTests
{
    [Test]
    public void AScopeCapturesArraysMadeByParallelWorkersWithoutLosingAny()
    {
        const int count = 200000;
        using var source = Nd.Zeros(new Shape(4));
        var made = new NDArray[count];
        var scope = NDArray.Scope();
        // Views are cheap to make, so the workers hit the scope's bookkeeping at the same moments.
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            made[i] = source.Reshape(2, 2);
        });
        var kept = made[7];
        scope.Keep(kept);
        scope.Dispose();
        made.Count(a => !a.IsDisposed).ShouldBe(1, "every array made inside the scope but the kept one is freed");
        kept.IsDisposed.ShouldBeFalse();
        kept.Dispose();
    }

    [Test]
    public async Task AScopeCapturesArraysMadeInTasksStartedInsideIt()
    {
        NDArray inTask;
        using (NDArray.Scope())
        {
            inTask = await Task.Run(() => Nd.Ones(new Shape(2)));
        }
        inTask.IsDisposed.ShouldBeTrue();
    }

    [Test]
    public void RecordingFromParallelWorkersGivesTheSequentialGradient()
    {
        using var x = Nd.Array([1f, 2f, 3f]);
        x.AttachGrad();
        const int workers = 64;
        var parts = new NDArray[workers];
        using (NDArray.Scope())
        {
            using (Engine.Autograd.Record())
            {
                // Each worker records its own chain; the tape lives on the arrays, so the chains do not interfere.
                Parallel.For(0, workers, i => parts[i] = Nd.Sum(x * (float)(i + 1)));
                var total = parts[0];
                for (int i = 1; i < workers; i++) total = total + parts[i];
                total.Backward();
            }
        }
        float expected = workers * (workers + 1) / 2f;
        x.Grad!.ToArray().ShouldBe([expected, expected, expected]);
    }
}
