namespace Engine.Gluon.Data;

/// <summary>Transforms for datasets of <see cref="Sample"/>.</summary>
public static class DatasetExtensions
{
    /// <summary>
    /// A lazy view that applies <paramref name="transform"/> to the first field of every sample (the data) and
    /// keeps the others (the label): MXNet's <c>transform_first</c>.
    /// </summary>
    /// <remarks>The loader's fast path for <see cref="ArrayDataset"/> does not apply to the transformed view:
    /// samples are read and stacked one at a time.</remarks>
    public static Dataset<Sample> TransformFirst(this Dataset<Sample> dataset, Func<NDArray, NDArray> transform)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(transform);
        return dataset.Transform(sample =>
        {
            var data = transform(sample.Data) ?? throw new InvalidOperationException(
                "TransformFirst: the transform returned null; it must return an NDArray.");
            // The original field is a temporary of the read (a view); a view the transform returned keeps the
            // buffer alive on its own.
            if (!ReferenceEquals(data, sample.Data)) sample.Data.Dispose();
            return sample.WithData(data);
        });
    }
}
