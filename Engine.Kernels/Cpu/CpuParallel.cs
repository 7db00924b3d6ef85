namespace Engine.Kernels.Cpu;

/// <summary>
/// The one place CPU kernels split work across threads. Work below <c>grain</c> items per thread runs inline:
/// dispatch costs microseconds, which small layers cannot repay.
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
    /// <paramref name="grain"/> items, one chunk per thread.
    /// </summary>
    public static void For(long count, long grain, Action<long, long> body)
    {
        if (count <= 0) return;
        int chunks = (int)Math.Min(MaxThreads, Math.Max(1, count / Math.Max(1, grain)));
        if (chunks <= 1)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
        {
            long start = count * c / chunks;
            long end = count * (c + 1) / chunks;
            if (end > start) body(start, end);
        });
    }
}
