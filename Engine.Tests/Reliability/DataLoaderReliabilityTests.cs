using Engine.Gluon.Data;

namespace Engine.Tests.Reliability;

public class DataLoaderReliabilityTests
{
    private static ArrayDataset Numbered(int n)
    {
        var data = Enumerable.Range(0, n * 4).Select(i => (float)i).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        return new ArrayDataset(data, new Shape(4), labels);
    }

    [TestCase(0)]
    [TestCase(2)]
    public void ATransformThatReturnsADisposedArrayIsAnErrorNotStaleMemory(int prefetch)
    {
        using var dataset = Numbered(8);
        var transformed = dataset.TransformFirst(x =>
        {
            var y = x * 2f;
            y.Dispose();
            return y;
        });
        var loader = new DataLoader(transformed, batchSize: 4, prefetch: prefetch);
        var e = Should.Throw<ObjectDisposedException>(() =>
        {
            foreach (var batch in loader) batch.Dispose();
        });
        e.Message.ShouldContain("sample 0");
        e.Message.ShouldContain("disposed");
    }

    [TestCase(0)]
    [TestCase(2)]
    public void ACancelledTokenStopsTheEpochAndTheProducer(int prefetch)
    {
        using var dataset = Numbered(64);
        using var cts = new CancellationTokenSource();
        var loader = new DataLoader(dataset, batchSize: 4, prefetch: prefetch, cancellationToken: cts.Token);
        var made = new List<DataBatch>();
        loader.BatchMade = b => { lock (made) made.Add(b); };
        int seen = 0;
        Should.Throw<OperationCanceledException>(() =>
        {
            foreach (var batch in loader)
            {
                using (batch)
                {
                    batch.Label.ToArray()[0].ShouldBe(seen * 4f);
                    if (++seen == 3) cts.Cancel();
                }
            }
        });
        seen.ShouldBe(3);
        // The loop's Dispose joined the producer: every batch made ahead was disposed, none was leaked.
        lock (made)
        {
            made.Count.ShouldBeLessThan(16);
            made.ShouldAllBe(b => b.IsDisposed);
        }
    }

    [Test]
    public void AnUncancelledTokenChangesNothing()
    {
        using var dataset = Numbered(10);
        using var cts = new CancellationTokenSource();
        var loader = new DataLoader(dataset, batchSize: 4, cancellationToken: cts.Token);
        var labels = new List<float>();
        foreach (var batch in loader)
            using (batch) labels.AddRange(batch.Label.ToArray());
        labels.ShouldBe(Enumerable.Range(0, 10).Select(i => (float)i));
    }
}
