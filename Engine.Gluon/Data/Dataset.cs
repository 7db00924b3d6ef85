namespace Engine.Gluon.Data;

/// <summary>
/// A random-access collection of samples: MXNet's <c>gluon.data.Dataset</c>. <see cref="DataLoader"/> batches
/// it.
/// </summary>
/// <remarks>
/// Each read returns a sample the caller owns: datasets that hold arrays hand out views of them, so disposing a
/// sample never frees the dataset's data. The loader reads samples inside an <see cref="NDArray.Scope"/> and
/// disposes what the read created once the batch is stacked.
/// </remarks>
public abstract class Dataset<T>
{
    /// <summary>The number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>The sample at <paramref name="index"/> (0 to Count - 1).</summary>
    public T this[int index]
    {
        get
        {
            int count = Count;
            if (index < 0 || index >= count)
                throw new ArgumentOutOfRangeException(nameof(index),
                    $"{GetType().Name}: index {index} is out of range for a dataset of {count} samples; " +
                    $"use 0 to {count - 1}.");
            return GetItem(index);
        }
    }

    /// <summary>Reads one sample; <paramref name="index"/> is already checked.</summary>
    protected abstract T GetItem(int index);

    /// <summary>
    /// A lazy view that applies <paramref name="transform"/> to every sample when it is read (MXNet's
    /// <c>transform(fn, lazy=True)</c>).
    /// </summary>
    public Dataset<T> Transform(Func<T, T> transform) => Transform<T>(transform);

    /// <summary>A lazy view whose samples are <paramref name="transform"/> of this dataset's samples.</summary>
    public Dataset<TResult> Transform<TResult>(Func<T, TResult> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return new TransformedDataset<T, TResult>(this, transform);
    }
}
