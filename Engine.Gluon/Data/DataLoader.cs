using System.Collections;

namespace Engine.Gluon.Data;

/// <summary>
/// Batches a dataset: MXNet's <c>gluon.data.DataLoader</c>. Each enumeration is one epoch of
/// <see cref="DataBatch"/>es whose fields are the samples' fields stacked along a new first axis, on the CPU:
/// <code>
/// var loader = new DataLoader(train, batchSize: 256, shuffle: true, seed: 1);
/// foreach (var (data, label) in loader) { ... }
/// </code>
/// </summary>
/// <remarks>
/// <para>An <see cref="ArrayDataset"/> (FashionMNIST is one) is batched by copying rows from its arrays; any
/// other dataset is read sample by sample and stacked.</para>
/// <para>With <c>prefetch</c> above 0 a background thread makes up to that many batches ahead. The consumer owns
/// every batch it receives (dispose it, or let a scope or the finalizer do it); batches made but not taken when
/// the enumeration ends early are disposed by the loader, and its thread ends before the enumeration's Dispose
/// returns. A batch joins the NDArray scope that is current on the consumer's thread when it is received.</para>
/// <para>Shuffling is deterministic: epoch e of a loader with a given seed always has the same order. Without a
/// seed the loader takes one from the engine's random stream, so <c>RandomState.Seed(n)</c> fixes it too.</para>
/// </remarks>
public sealed class DataLoader : IEnumerable<DataBatch>
{
    private readonly BatchSampler sampler;

    /// <param name="dataset">The samples; every sample needs the same field shapes and dtypes.</param>
    /// <param name="batchSize">Samples per batch (at least 1).</param>
    /// <param name="shuffle">Visit the samples in a new random order every epoch.</param>
    /// <param name="lastBatch">What to do with a last batch smaller than <paramref name="batchSize"/>.</param>
    /// <param name="seed">The shuffle seed (only with <paramref name="shuffle"/>).</param>
    /// <param name="prefetch">Batches a background thread makes ahead; 0 makes them on the consumer's thread.
    /// </param>
    /// <param name="cancellationToken">Stops every enumeration of this loader: the next MoveNext throws
    /// <see cref="OperationCanceledException"/>, the background thread ends and the batches it made ahead are
    /// disposed.</param>
    public DataLoader(Dataset<Sample> dataset, int batchSize, bool shuffle = false,
        LastBatch lastBatch = LastBatch.Keep, long? seed = null, int prefetch = 2,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize),
                $"DataLoader: batchSize must be at least 1, got {batchSize}.");
        if (!Enum.IsDefined(lastBatch))
            throw new ArgumentOutOfRangeException(nameof(lastBatch),
                $"DataLoader: lastBatch must be Keep, Discard or Rollover, got {(int)lastBatch}.");
        if (prefetch < 0)
            throw new ArgumentOutOfRangeException(nameof(prefetch),
                $"DataLoader: prefetch must be 0 (no background thread) or more, got {prefetch}.");
        if (seed is not null && !shuffle)
            throw new ArgumentException(
                "DataLoader: a seed was given but shuffle is false; pass shuffle: true, or drop the seed.",
                nameof(seed));
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        LastBatch = lastBatch;
        Prefetch = prefetch;
        CancellationToken = cancellationToken;
        sampler = new BatchSampler(batchSize, lastBatch, shuffle, shuffle ? ShuffleSeed(seed) : 0);
    }

    public Dataset<Sample> Dataset { get; }

    public int BatchSize { get; }

    public bool Shuffle { get; }

    public LastBatch LastBatch { get; }

    public int Prefetch { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>The number of batches the next epoch yields (with Rollover it counts the carried samples).</summary>
    public int Count => sampler.Count(Dataset.Count);

    /// <summary>Starts an epoch. Enumerate one epoch at a time: Rollover hands samples from one to the next.</summary>
    public IEnumerator<DataBatch> GetEnumerator()
    {
        var plan = sampler.Start(Dataset.Count);
        return Prefetch > 0
            ? new PrefetchingEnumerator(plan.Batches, MakeBatch, Prefetch, plan.Complete, CancellationToken)
            : Iterate(plan);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerator<DataBatch> Iterate(BatchSampler.EpochPlan plan)
    {
        foreach (var indices in plan.Batches)
        {
            CancellationToken.ThrowIfCancellationRequested();
            yield return MakeBatch(indices);
        }
        CancellationToken.ThrowIfCancellationRequested();
        plan.Complete();
    }

    /// <summary>Called with every batch made, on the thread that made it (tests follow batches with it).</summary>
    internal Action<DataBatch>? BatchMade { get; set; }

    private DataBatch MakeBatch(int[] indices)
    {
        var batch = Dataset is ArrayDataset arrays ? arrays.Gather(indices) : Batchify.Stack(Dataset, indices);
        BatchMade?.Invoke(batch);
        return batch;
    }

    private static ulong ShuffleSeed(long? seed)
    {
        if (seed is long s) return unchecked((ulong)s);
        var (streamSeed, offset) = RandomState.Take(1);
        ulong state = streamSeed ^ unchecked(offset * 0xD1B54A32D192ED03UL);
        return BatchSampler.SplitMix64(ref state);
    }
}
