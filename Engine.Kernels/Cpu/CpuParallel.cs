namespace Engine.Kernels.Cpu;

/// <summary>
/// The one place CPU kernels split work across threads. Work below <c>grain</c> items per thread runs inline:
/// dispatch costs microseconds, which small layers cannot repay. Parallel work runs on <see cref="CpuWorkerPool"/>,
/// whose dispatch costs about a microsecond when its workers are awake (Parallel.For's costs tens).
/// </summary>
public static class CpuParallel
{
    /// <summary>Threads kernels may use; defaults to the processor count.</summary>
    public static int MaxThreads
    {
        get => maxThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            maxThreads = value;
        }
    }

    private static int maxThreads = Environment.ProcessorCount;

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in contiguous chunks of at least
    /// <paramref name="grain"/> items, one chunk per thread. The calling thread runs chunks too; a call from inside
    /// a parallel body, or while another thread has the pool, runs its chunks on the calling thread alone.
    /// Exceptions thrown by <paramref name="body"/> are rethrown here once every chunk has finished.
    /// </summary>
    public static void For(long count, long grain, Action<long, long> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        int chunks = (int)Math.Min(MaxThreads, Math.Max(1, count / Math.Max(1, grain)));
        if (chunks <= 1)
        {
            body(0, count);
            return;
        }
        CpuWorkerPool.Shared.Run(count, chunks, body);
    }
}

/// <summary>
/// Dedicated worker threads for <see cref="CpuParallel.For"/>: processor count minus one, started on first use,
/// background threads. A job is published by bumping a generation counter; the caller and the workers take chunks
/// with an interlocked counter on the job, so a worker that is slow to wake only means the caller runs more chunks,
/// and a worker that wakes late finds nothing left to take. A worker polls for <see cref="SpinTicks"/> after a job
/// (layers run back to back, so the next job usually comes within microseconds), then sleeps on
/// a monitor until the next job wakes it.
/// </summary>
internal sealed class CpuWorkerPool
{
    /// <summary>How long a worker polls for the next job before it goes to sleep.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 us

    public static CpuWorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    private readonly object sleepGate = new();
    private readonly object callerGate = new();
    private readonly int workerCount;
    private Thread[]? workers;
    private Job? current;
    private int generation;
    private int sleepers;

    [ThreadStatic] private static bool inParallelBody;

    private CpuWorkerPool(int workerCount) => this.workerCount = workerCount;

    /// <summary>One call's work; only the two counters and the failure change after it is published.</summary>
    private sealed class Job
    {
        private readonly Action<long, long> body;
        private readonly long count;
        private readonly int chunks;
        private int nextChunk;
        private int unfinished;
        private Exception? failure;

        public Job(Action<long, long> body, long count, int chunks)
        {
            this.body = body;
            this.count = count;
            this.chunks = chunks;
            unfinished = chunks;
        }

        public bool Finished => Volatile.Read(ref unfinished) == 0;

        public Exception? Failure => failure;

        /// <summary>Takes chunks until none is left.</summary>
        public void RunChunks()
        {
            for (int c = Interlocked.Increment(ref nextChunk) - 1; c < chunks;
                 c = Interlocked.Increment(ref nextChunk) - 1)
            {
                try
                {
                    long start = count * c / chunks, end = count * (c + 1) / chunks;
                    if (end > start) body(start, end);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
                finally
                {
                    Interlocked.Decrement(ref unfinished);
                }
            }
        }
    }

    public void Run(long count, int chunks, Action<long, long> body)
    {
        if (workerCount == 0 || inParallelBody || !Monitor.TryEnter(callerGate))
        {
            RunInline(count, chunks, body);
            return;
        }
        try
        {
            EnsureStarted();
            var job = new Job(body, count, chunks);
            Volatile.Write(ref current, job);
            Interlocked.Increment(ref generation);
            if (Volatile.Read(ref sleepers) > 0)
            {
                lock (sleepGate) Monitor.PulseAll(sleepGate);
            }
            inParallelBody = true; // nested For calls from the body run inline
            try
            {
                job.RunChunks();
            }
            finally
            {
                inParallelBody = false;
            }
            var spin = new SpinWait();
            while (!job.Finished) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref current, null);
            if (job.Failure is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally
        {
            Monitor.Exit(callerGate);
        }
    }

    private static void RunInline(long count, int chunks, Action<long, long> body)
    {
        for (int c = 0; c < chunks; c++)
        {
            long start = count * c / chunks, end = count * (c + 1) / chunks;
            if (end > start) body(start, end);
        }
    }

    private void EnsureStarted()
    {
        if (workers is not null) return;
        workers = new Thread[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"Engine CPU worker {i + 1}" };
            workers[i].Start();
        }
    }

    private void WorkerLoop()
    {
        inParallelBody = true;
        int seen = Volatile.Read(ref generation);
        while (true)
        {
            seen = WaitForJob(seen);
            // A late wake-up may find the job done (nothing left to take) or already cleared.
            Volatile.Read(ref current)?.RunChunks();
        }
    }

    /// <summary>Waits until the generation moves past <paramref name="seen"/>; returns the new generation.</summary>
    private int WaitForJob(int seen)
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
        do
        {
            for (int i = 0; i < 16; i++)
            {
                int g = Volatile.Read(ref generation);
                if (g != seen) return g;
                Thread.SpinWait(1);
            }
        }
        while (System.Diagnostics.Stopwatch.GetTimestamp() < deadline);
        Interlocked.Increment(ref sleepers);
        try
        {
            lock (sleepGate)
            {
                while (true)
                {
                    int g = Volatile.Read(ref generation);
                    if (g != seen) return g;
                    Monitor.Wait(sleepGate);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref sleepers);
        }
    }
}
