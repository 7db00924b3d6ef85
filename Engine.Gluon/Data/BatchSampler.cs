namespace Engine.Gluon.Data;

/// <summary>
/// Splits each epoch's sample order into batches of indices, with MXNet's BatchSampler rules for the last
/// batch. The shuffled order of epoch e depends only on the seed and e.
/// </summary>
internal sealed class BatchSampler(int batchSize, LastBatch lastBatch, bool shuffle, ulong seed)
{
    private int[] carried = [];
    private long epoch;

    /// <summary>The number of batches the next epoch yields over <paramref name="length"/> samples.</summary>
    public int Count(int length) => lastBatch switch
    {
        LastBatch.Keep => (int)(((long)length + batchSize - 1) / batchSize),
        LastBatch.Discard => length / batchSize,
        _ => (int)(((long)carried.Length + length) / batchSize),
    };

    /// <summary>
    /// Plans the next epoch. Samples carried over by Rollover come first; they are handed on only when the
    /// consumer reaches the end of the epoch (an epoch ended early carries nothing, as in MXNet).
    /// </summary>
    public EpochPlan Start(int length)
    {
        var order = Order(length, epoch++);
        var previous = carried;
        carried = [];
        int total = previous.Length + length;
        var batches = new List<int[]>(total / batchSize + 1);
        int at = 0;
        for (; at + batchSize <= total; at += batchSize) batches.Add(Take(previous, order, at, batchSize));
        int[] leftover = at < total ? Take(previous, order, at, total - at) : [];
        if (leftover.Length > 0 && lastBatch == LastBatch.Keep) batches.Add(leftover);
        return new EpochPlan(batches, lastBatch == LastBatch.Rollover ? leftover : [], this);
    }

    private static int[] Take(int[] previous, int[] order, int start, int count)
    {
        var batch = new int[count];
        for (int k = 0; k < count; k++)
        {
            int p = start + k;
            batch[k] = p < previous.Length ? previous[p] : order[p - previous.Length];
        }
        return batch;
    }

    private int[] Order(int length, long epochIndex)
    {
        var order = new int[length];
        for (int i = 0; i < length; i++) order[i] = i;
        if (!shuffle) return order;
        // Fisher-Yates driven by SplitMix64; the multiply-high maps 64 random bits onto [0, i] (bias < 2^-32).
        ulong state = seed ^ unchecked(0x9E3779B97F4A7C15UL * (ulong)(epochIndex + 1));
        for (int i = length - 1; i > 0; i--)
        {
            int j = (int)Math.BigMul(SplitMix64(ref state), (ulong)(i + 1), out _);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    internal static ulong SplitMix64(ref ulong state)
    {
        ulong z = state = unchecked(state + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>One epoch's batches of indices; <see cref="Complete"/> hands on the Rollover samples.</summary>
    internal sealed class EpochPlan(IReadOnlyList<int[]> batches, int[] leftover, BatchSampler owner)
    {
        public IReadOnlyList<int[]> Batches => batches;

        public void Complete()
        {
            if (leftover.Length > 0) owner.carried = leftover;
        }
    }
}
