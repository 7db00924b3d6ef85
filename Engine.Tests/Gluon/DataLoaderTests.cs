using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Engine.Gluon.Data;

namespace Engine.Tests.Gluon;

public class DataLoaderTests
{
    /// <summary>Sample i is (i*10, i*10+1, i*10+2) with label i.</summary>
    private static ArrayDataset Numbered(int n)
    {
        var data = new float[n * 3];
        for (int i = 0; i < data.Length; i++) data[i] = i / 3 * 10 + i % 3;
        var labels = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        return new ArrayDataset(data, new Shape(3), labels);
    }

    /// <summary>MXNet's BatchSampler (python/mxnet/gluon/data/sampler.py) over a given order, epoch by epoch.</summary>
    private sealed class ReferenceBatchSampler(int batchSize, string lastBatch)
    {
        private List<int> previous = [];

        public List<List<int>> Epoch(IEnumerable<int> sampler)
        {
            var result = new List<List<int>>();
            var batch = previous;
            previous = [];
            foreach (int i in sampler)
            {
                batch.Add(i);
                if (batch.Count == batchSize)
                {
                    result.Add(batch);
                    batch = [];
                }
            }
            if (batch.Count > 0)
            {
                if (lastBatch == "keep") result.Add(batch);
                else if (lastBatch == "rollover") previous = batch;
            }
            return result;
        }

        public int Length(int n) => lastBatch switch
        {
            "keep" => (n + batchSize - 1) / batchSize,
            "discard" => n / batchSize,
            _ => (previous.Count + n) / batchSize,
        };
    }

    private static List<List<int>> Epoch(DataLoader loader)
    {
        var epoch = new List<List<int>>();
        foreach (var batch in loader)
            using (batch)
                epoch.Add(batch.Label.ToArray().Select(v => (int)v).ToList());
        return epoch;
    }

    [Test]
    public void ArrayDatasetReturnsViewsOfEachArray()
    {
        using var x = Nd.Arange(0, 12).Reshape(4, 3);
        using var y = Nd.Array(5f, 6, 7, 8);
        using var ds = new ArrayDataset(x, y);
        ds.Count.ShouldBe(4);
        ds.FieldCount.ShouldBe(2);
        ds.GetSampleShape(0).ShouldBe(new Shape(3));
        ds.GetSampleShape(1).ShouldBe(Shape.Scalar);
        var (data, label) = ds[2];
        data.ToArray().ShouldBe([6f, 7, 8]);
        label.Shape.ShouldBe(Shape.Scalar);
        label.ToScalar().ShouldBe(7f);
        data.Dispose();
        label.Dispose();
        // The dataset shares the caller's buffer and keeps it alive after the caller disposes its array.
        x.Dispose();
        using var again = ds[3];
        again.Data.ToArray().ShouldBe([9f, 10, 11]);
        Should.Throw<ArgumentOutOfRangeException>(() => ds[4]).Message.ShouldContain("index 4 is out of range");
        Should.Throw<InvalidOperationException>(() => new Sample(Nd.Zeros(1)).Label).Message.ShouldContain("no label");
    }

    [Test]
    public void ArrayDatasetCopiesNonContiguousArrays()
    {
        using var x = Nd.Arange(0, 6).Reshape(2, 3);
        using var t = x.T;
        using var ds = new ArrayDataset(t);
        using var s = ds[1];
        s.Data.ToArray().ShouldBe([1f, 4]);
        s.Count.ShouldBe(1);
    }

    [Test]
    public void ArrayDatasetNamesTheArrayWithTheWrongLength()
    {
        using var x = Nd.Zeros(10, 2);
        using var y = Nd.Zeros(9);
        Should.Throw<ArgumentException>(() => new ArrayDataset(x, y)).Message
            .ShouldContain("ArrayDataset: array 1 has 9 samples but array 0 has 10");
        using var scalar = Nd.Scalar(1);
        Should.Throw<ArgumentException>(() => new ArrayDataset(x, scalar)).Message.ShouldContain("array 1 is a scalar");
        Should.Throw<ArgumentException>(() => new ArrayDataset()).Message.ShouldContain("at least one array");
        Should.Throw<ArgumentException>(() => new ArrayDataset(new float[5], new Shape(2), [1f, 2f])).Message
            .ShouldContain("need 4 data values, but 5 were given");
        Should.Throw<ArgumentException>(() => new ArrayDataset(new float[3, 2], [1f, 2f])).Message
            .ShouldContain("array 1 has 2 samples but array 0 has 3");
        var ds = new ArrayDataset(x);
        ds.Dispose();
        Should.Throw<ObjectDisposedException>(() => ds[0]).Message.ShouldContain("was disposed");
    }

    [Test]
    public void TransformAndTransformFirstAreLazy()
    {
        using var ds = Numbered(5);
        int calls = 0;
        var doubled = ds.TransformFirst(x =>
        {
            calls++;
            return x * 2;
        });
        calls.ShouldBe(0);
        doubled.Count.ShouldBe(5);
        using (var s = doubled[1])
        {
            s.Data.ToArray().ShouldBe([20f, 22, 24]);
            s.Label.ToScalar().ShouldBe(1f);
        }
        calls.ShouldBe(1);
        var labelsOnly = ds.Transform(s => new Sample(s.Label));
        using (var s = labelsOnly[4]) s.Data.ToScalar().ShouldBe(4f);
        var sizes = ds.Transform(s => s.Data.Size);
        sizes[0].ShouldBe(3L);
        Should.Throw<ArgumentOutOfRangeException>(() => doubled[-1]).Message.ShouldContain("index -1");
    }

    [TestCase(10, 4, LastBatch.Keep)]
    [TestCase(10, 4, LastBatch.Discard)]
    [TestCase(10, 4, LastBatch.Rollover)]
    [TestCase(12, 4, LastBatch.Rollover)]
    [TestCase(7, 3, LastBatch.Rollover)]
    [TestCase(3, 5, LastBatch.Rollover)]
    [TestCase(3, 5, LastBatch.Keep)]
    [TestCase(3, 5, LastBatch.Discard)]
    public void LastBatchFollowsMXNetsBatchSampler(int n, int batchSize, LastBatch lastBatch)
    {
        using var ds = Numbered(n);
        foreach (int prefetch in new[] { 0, 2 })
        {
            var loader = new DataLoader(ds, batchSize, lastBatch: lastBatch, prefetch: prefetch);
            var reference = new ReferenceBatchSampler(batchSize, lastBatch.ToString().ToLowerInvariant());
            for (int epoch = 0; epoch < 4; epoch++)
            {
                loader.Count.ShouldBe(reference.Length(n), $"epoch {epoch}, prefetch {prefetch}");
                var expected = reference.Epoch(Enumerable.Range(0, n));
                Epoch(loader).ShouldBe(expected, $"epoch {epoch}, prefetch {prefetch}");
            }
        }
    }

    [Test]
    public void BatchesStackRowsInOrder()
    {
        using var ds = Numbered(5);
        var loader = new DataLoader(ds, batchSize: 2, prefetch: 0);
        var batches = loader.ToList();
        batches.Count.ShouldBe(3);
        batches[0].Data.Shape.ShouldBe(new Shape(2, 3));
        batches[0].Label.Shape.ShouldBe(new Shape(2));
        batches[1].Data.ToArray().ShouldBe([20f, 21, 22, 30, 31, 32]);
        batches[2].Size.ShouldBe(1);
        batches[2].Data.ToArray().ShouldBe([40f, 41, 42]);
        foreach (var b in batches) b.Dispose();
        batches.ShouldAllBe(b => b.IsDisposed);
    }

    [Test]
    public void ShuffleIsASeededPermutationPerEpoch()
    {
        using var ds = Numbered(50);
        List<List<int>>[] Run(long seed)
        {
            var loader = new DataLoader(ds, batchSize: 8, shuffle: true, seed: seed);
            return [Epoch(loader), Epoch(loader), Epoch(loader)];
        }
        var a = Run(7);
        var b = Run(7);
        var c = Run(8);
        for (int e = 0; e < 3; e++)
        {
            a[e].ShouldBe(b[e]);
            a[e].SelectMany(x => x).OrderBy(x => x).ShouldBe(Enumerable.Range(0, 50));
            a[e].Select(x => x.Count).ShouldBe([8, 8, 8, 8, 8, 8, 2]);
        }
        a[0].ShouldNotBe(a[1]);
        a[0].ShouldNotBe(c[0]);
        a[0].SelectMany(x => x).ShouldNotBe(Enumerable.Range(0, 50));
    }

    [Test]
    public void ShuffleWithoutSeedFollowsTheEngineSeed()
    {
        using var ds = Numbered(30);
        RandomState.Seed(123);
        var first = Epoch(new DataLoader(ds, batchSize: 30, shuffle: true));
        var second = Epoch(new DataLoader(ds, batchSize: 30, shuffle: true));
        RandomState.Seed(123);
        Epoch(new DataLoader(ds, batchSize: 30, shuffle: true)).ShouldBe(first);
        second.ShouldNotBe(first);
    }

    [Test]
    public void RolloverCarriesShuffledSamplesIntoTheNextEpoch()
    {
        using var ds = Numbered(10);
        var loader = new DataLoader(ds, batchSize: 4, shuffle: true, seed: 3, lastBatch: LastBatch.Rollover);
        var e1 = Epoch(loader);
        e1.Count.ShouldBe(2);
        // The same seed with Keep shows the whole first-epoch order: its last batch is what Rollover carries.
        var keep = Epoch(new DataLoader(ds, batchSize: 4, shuffle: true, seed: 3));
        keep.Take(2).ShouldBe(e1);
        var carried = keep[2];
        loader.Count.ShouldBe(3);
        var e2 = Epoch(loader);
        e2.Count.ShouldBe(3);
        e2[0].Take(2).ShouldBe(carried);
        loader.Count.ShouldBe(2);
    }

    [Test]
    public void ArrayDatasetFastPathMatchesPerSampleStacking()
    {
        using var x = Nd.RandomUniform(-1, 1, new Shape(37, 2, 3));
        using var y = Nd.Arange(0, 37, dtype: DType.Int32);
        using var ds = new ArrayDataset(x, y);
        var perSample = ds.Transform(s => s);
        foreach (bool shuffle in new[] { false, true })
        {
            var fast = new DataLoader(ds, 8, shuffle, seed: shuffle ? 5 : null, prefetch: 0).ToList();
            var slow = new DataLoader(perSample, 8, shuffle, seed: shuffle ? 5 : null, prefetch: 3).ToList();
            fast.Count.ShouldBe(5);
            slow.Count.ShouldBe(5);
            for (int b = 0; b < fast.Count; b++)
            {
                fast[b].Data.Shape.ShouldBe(slow[b].Data.Shape);
                fast[b].Data.ToArray().ShouldBe(slow[b].Data.ToArray());
                fast[b].Label.DType.ShouldBe(DType.Int32);
                fast[b].Label.ToArray<int>().ShouldBe(slow[b].Label.ToArray<int>());
                // Reference: row r of the batch is sample label[r] of x.
                var labels = fast[b].Label.ToArray<int>();
                var rows = fast[b].Data.ToArray();
                var all = x.ToArray();
                for (int r = 0; r < labels.Length; r++)
                    rows.AsSpan(r * 6, 6).ToArray().ShouldBe(all.AsSpan(labels[r] * 6, 6).ToArray());
                fast[b].Dispose();
                slow[b].Dispose();
            }
        }
    }

    [Test]
    public void SamplesOfDifferentShapesAreNamed()
    {
        var ragged = new RaggedDataset();
        var loader = new DataLoader(ragged, batchSize: 3, prefetch: 0);
        Should.Throw<InvalidOperationException>(() => loader.First()).Message
            .ShouldContain("field 0 of sample 1 is float32 (3,) but sample 0 has float32 (2,)");
    }

    private sealed class RaggedDataset : Dataset<Sample>
    {
        public override int Count => 3;

        protected override Sample GetItem(int index) => new(Nd.Zeros(2 + index), Nd.Scalar(index));
    }

    /// <summary>A dataset whose samples the test stores up front: the loader must not dispose them.</summary>
    private sealed class StoredDataset(Sample[] samples) : Dataset<Sample>
    {
        public override int Count => samples.Length;

        protected override Sample GetItem(int index) => samples[index];
    }

    [Test]
    public void PerSamplePathDisposesOnlyWhatTheReadsCreated()
    {
        var samples = Enumerable.Range(0, 6).Select(i => new Sample(Nd.Full(new Shape(2), i), Nd.Scalar(i)))
            .ToArray();
        var loader = new DataLoader(new StoredDataset(samples), batchSize: 4);
        for (int epoch = 0; epoch < 2; epoch++) Epoch(loader).SelectMany(b => b).ShouldBe([0, 1, 2, 3, 4, 5]);
        samples.ShouldAllBe(s => !s.Data.IsDisposed && !s.Label.IsDisposed);
        foreach (var s in samples) s.Dispose();
    }

    [Test]
    public void BatchesJoinTheConsumersScope()
    {
        using var ds = Numbered(8);
        foreach (int prefetch in new[] { 0, 2 })
        {
            var kept = new List<DataBatch>();
            using (NDArray.Scope())
            {
                foreach (var batch in new DataLoader(ds, batchSize: 4, prefetch: prefetch)) kept.Add(batch);
                kept.ShouldAllBe(b => !b.IsDisposed);
            }
            kept.Count.ShouldBe(2);
            kept.ShouldAllBe(b => b.IsDisposed, $"prefetch {prefetch}");
        }
    }

    [Test]
    public void BreakingEarlyStopsTheProducerAndDisposesUntakenBatches()
    {
        using var ds = Numbered(100);
        var made = new ConcurrentQueue<DataBatch>();
        var loader = new DataLoader(ds, batchSize: 2, prefetch: 3) { BatchMade = made.Enqueue };
        var taken = new List<DataBatch>();
        Thread producer;
        using (var e = (PrefetchingEnumerator)loader.GetEnumerator())
        {
            producer = e.ProducerThread;
            for (int i = 0; i < 2 && e.MoveNext(); i++) taken.Add(e.Current);
            // Let the producer fill its queue and block.
            SpinWait.SpinUntil(() => made.Count >= 5, TimeSpan.FromSeconds(10)).ShouldBeTrue();
        }
        producer.IsAlive.ShouldBeFalse();
        made.Count.ShouldBeLessThan(50);
        foreach (var b in made)
            if (!taken.Contains(b))
                b.IsDisposed.ShouldBeTrue();
        taken.ShouldAllBe(b => !b.IsDisposed);
        foreach (var b in taken) b.Dispose();

        // foreach with break disposes the enumerator the same way.
        made.Clear();
        foreach (var batch in loader)
        {
            batch.Dispose();
            break;
        }
        made.ShouldAllBe(b => b.IsDisposed);
    }

    [Test]
    public void AnAbandonedEnumeratorStopsItsProducer()
    {
        using var ds = Numbered(100);
        var loader = new DataLoader(ds, batchSize: 2, prefetch: 2);
        var producer = StartAndAbandon(loader);
        for (int i = 0; i < 20 && producer.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            producer.Join(100);
        }
        producer.IsAlive.ShouldBeFalse();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Thread StartAndAbandon(DataLoader loader)
    {
        var e = (PrefetchingEnumerator)loader.GetEnumerator();
        e.MoveNext().ShouldBeTrue();
        e.Current.Dispose();
        return e.ProducerThread;
    }

    [Test]
    public void DatasetErrorsReachTheConsumerAfterTheEarlierBatches()
    {
        using var ds = Numbered(10);
        var failing = ds.Transform(s =>
            s.Label.ToScalar() == 6 ? throw new InvalidDataException("sample 6 is bad") : s);
        foreach (int prefetch in new[] { 0, 2 })
        {
            var received = new List<int>();
            var e = Should.Throw<InvalidDataException>(() =>
            {
                foreach (var b in new DataLoader(failing, batchSize: 3, prefetch: prefetch))
                    using (b)
                        received.Add(b.Size);
            });
            e.Message.ShouldBe("sample 6 is bad");
            received.ShouldBe([3, 3]);
        }
    }

    [Test]
    public void OptionsAreValidated()
    {
        using var ds = Numbered(4);
        Should.Throw<ArgumentOutOfRangeException>(() => new DataLoader(ds, 0)).Message
            .ShouldContain("DataLoader: batchSize must be at least 1, got 0");
        Should.Throw<ArgumentOutOfRangeException>(() => new DataLoader(ds, 2, prefetch: -1)).Message
            .ShouldContain("prefetch");
        Should.Throw<ArgumentException>(() => new DataLoader(ds, 2, seed: 1)).Message.ShouldContain("shuffle is false");
        Should.Throw<ArgumentOutOfRangeException>(() => new DataLoader(ds, 2, lastBatch: (LastBatch)7)).Message
            .ShouldContain("Keep, Discard or Rollover");
        Should.Throw<InvalidOperationException>(() => new DataLoader(ds.Transform(s => new Sample(s.Data)), 2)
            .First().Label).Message.ShouldContain("no label");
    }

    [Test]
    public void AnEpochOfFashionMnistSizeLoadsQuickly()
    {
        const int n = 60000;
        using var images = Nd.RandomUniform(0, 1, new Shape(n, 1, 28, 28));
        using var labels = Nd.Zeros(n);
        using var ds = new ArrayDataset(images, labels);
        var loader = new DataLoader(ds, batchSize: 256, shuffle: true, seed: 1);
        loader.Count.ShouldBe(235);
        var watch = Stopwatch.StartNew();
        int batches = 0;
        foreach (var batch in loader)
            using (batch)
                batches++;
        watch.Stop();
        batches.ShouldBe(235);
        TestContext.Out.WriteLine($"one shuffled epoch of 60000 x 784 at batch 256: {watch.ElapsedMilliseconds} ms");
        // Copying 188 MB of rows takes well under a second; a per-sample path would take several.
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3));
    }
}
