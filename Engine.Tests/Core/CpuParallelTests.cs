using System.Collections.Concurrent;
using Engine.Kernels.Cpu;

namespace Engine.Tests.Core;

/// <summary>
/// The worker pool behind CpuParallel.For: every item exactly once, errors, nesting, concurrent callers.
/// </summary>
[NonParallelizable]
public class CpuParallelTests
{
    private int savedThreads;

    [SetUp]
    public void SaveThreads() => savedThreads = CpuParallel.MaxThreads;

    [TearDown]
    public void RestoreThreads() => CpuParallel.MaxThreads = savedThreads;

    [TestCase(1, 1000L, 1L)]
    [TestCase(2, 1000L, 1L)]
    [TestCase(2, 7L, 1L)]
    [TestCase(5, 1001L, 10L)]
    [TestCase(16, 100_000L, 1L)]
    [TestCase(3, 10L, 100L)] // below the grain: one chunk, inline
    public void EveryItemRunsExactlyOnce(int threads, long count, long grain)
    {
        CpuParallel.MaxThreads = threads;
        for (int round = 0; round < 200; round++)
        {
            var hits = new int[count];
            CpuParallel.For(count, grain, (start, end) =>
            {
                for (long i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
            });
            hits.ShouldAllBe(h => h == 1, $"round {round}");
        }
    }

    [Test]
    public void ChunksAreContiguousAndAtMostOnePerThread()
    {
        CpuParallel.MaxThreads = 4;
        var chunks = new ConcurrentBag<(long Start, long End)>();
        CpuParallel.For(100, 1, (s, e) => chunks.Add((s, e)));
        var sorted = chunks.OrderBy(c => c.Start).ToList();
        sorted.Count.ShouldBe(4);
        sorted[0].Start.ShouldBe(0);
        sorted[^1].End.ShouldBe(100);
        for (int i = 1; i < sorted.Count; i++) sorted[i].Start.ShouldBe(sorted[i - 1].End);
    }

    [Test]
    public void AnExceptionInAChunkReachesTheCallerAfterAllChunksFinish()
    {
        CpuParallel.MaxThreads = 4;
        int finished = 0;
        var e = Should.Throw<InvalidOperationException>(() => CpuParallel.For(4, 1, (s, _) =>
        {
            if (s == 2) throw new InvalidOperationException("chunk 2 failed");
            Thread.Sleep(5);
            Interlocked.Increment(ref finished);
        }));
        e.Message.ShouldBe("chunk 2 failed");
        finished.ShouldBe(3);
        // The pool is usable afterwards.
        long sum = 0;
        CpuParallel.For(1000, 1, (s, end) => Interlocked.Add(ref sum, end - s));
        sum.ShouldBe(1000);
    }

    [Test]
    public void NestedCallsRunAndCoverEverything()
    {
        CpuParallel.MaxThreads = 2;
        var hits = new int[8 * 100];
        CpuParallel.For(8, 1, (s, e) =>
        {
            for (long r = s; r < e; r++)
            {
                long row = r;
                CpuParallel.For(100, 1, (a, b) =>
                {
                    for (long i = a; i < b; i++) Interlocked.Increment(ref hits[row * 100 + i]);
                });
            }
        });
        hits.ShouldAllBe(h => h == 1);
    }

    [Test]
    public void ConcurrentCallersEachGetTheirOwnWorkDone()
    {
        CpuParallel.MaxThreads = 2;
        const int callers = 4, rounds = 300, n = 257;
        var totals = new long[callers];
        var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
        {
            for (int r = 0; r < rounds; r++)
            {
                CpuParallel.For(n, 1, (s, e) =>
                {
                    long local = 0;
                    for (long i = s; i < e; i++) local += i;
                    Interlocked.Add(ref totals[t], local);
                });
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        totals.ShouldAllBe(total => total == rounds * (long)n * (n - 1) / 2);
    }

    [Test]
    public void WorkersWakeAfterSleeping()
    {
        CpuParallel.MaxThreads = 2;
        for (int round = 0; round < 3; round++)
        {
            Thread.Sleep(50); // longer than the workers poll, so they are asleep
            var workerThreads = new ConcurrentDictionary<int, bool>();
            long sum = 0;
            CpuParallel.For(2, 1, (s, e) =>
            {
                workerThreads[Environment.CurrentManagedThreadId] = true;
                Thread.Sleep(20); // long enough that a woken worker takes the second chunk
                Interlocked.Add(ref sum, e - s);
            });
            sum.ShouldBe(2);
            if (Environment.ProcessorCount > 1) workerThreads.Count.ShouldBe(2, $"round {round}");
        }
    }

    [Test]
    public void MaxThreadsRejectsZero()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => CpuParallel.MaxThreads = 0);
    }
}
