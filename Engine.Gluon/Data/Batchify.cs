namespace Engine.Gluon.Data;

/// <summary>Stacks samples into batches: MXNet's default batchify function, writing straight into CPU arrays.</summary>
internal static class Batchify
{
    /// <summary>
    /// Reads the samples at <paramref name="indices"/> and stacks each field along a new first axis. What the
    /// reads create (views, transform results) is disposed once copied; arrays a dataset made earlier are not.
    /// </summary>
    public static DataBatch Stack(Dataset<Sample> dataset, int[] indices)
    {
        var fields = Array.Empty<NDArray>();
        try
        {
            using var scope = NDArray.Scope();
            var first = Read(dataset, indices[0]);
            fields = new NDArray[first.Count];
            for (int f = 0; f < fields.Length; f++)
                fields[f] = scope.Keep(Nd.Empty(new Shape([indices.Length, .. first[f].Shape.Dims]),
                    first[f].DType, Device.Cpu));
            CopySample(first, fields, 0);
            for (int i = 1; i < indices.Length; i++)
            {
                var sample = Read(dataset, indices[i]);
                CheckLike(sample, first, indices[i], indices[0]);
                CopySample(sample, fields, i);
            }
        }
        catch
        {
            foreach (var a in fields) a?.Dispose();
            throw;
        }
        return new DataBatch(fields);
    }

    private static Sample Read(Dataset<Sample> dataset, int index)
    {
        var sample = dataset[index] ?? throw new InvalidOperationException(
            $"DataLoader: {dataset.GetType().Name} returned null for sample {index}; a dataset must return a Sample.");
        for (int f = 0; f < sample.Count; f++)
            if (sample[f].IsDisposed)
                throw new ObjectDisposedException(nameof(NDArray),
                    $"DataLoader: field {f} of sample {index} from {dataset.GetType().Name} is an NDArray that was " +
                    "already disposed; a dataset or transform must return live arrays (do not dispose the result, " +
                    "or return a copy).");
        return sample;
    }

    private static void CheckLike(Sample sample, Sample first, int index, int firstIndex)
    {
        if (sample.Count != first.Count)
            throw new InvalidOperationException(
                $"DataLoader: sample {index} has {sample.Count} field(s) but sample {firstIndex} has " +
                $"{first.Count}; every sample of a dataset needs the same fields.");
        for (int f = 0; f < first.Count; f++)
            if (sample[f].Shape != first[f].Shape || sample[f].DType != first[f].DType)
                throw new InvalidOperationException(
                    $"DataLoader: field {f} of sample {index} is {sample[f].DType.Name()} {sample[f].Shape} but " +
                    $"sample {firstIndex} has {first[f].DType.Name()} {first[f].Shape}; samples stacked into one " +
                    "batch need the same shapes and dtypes (resize or pad them in a transform).");
    }

    /// <summary>
    /// Writes each field of a sample into row <paramref name="row"/> of the batch (the copy operator).
    /// </summary>
    private static void CopySample(Sample sample, NDArray[] fields, int row)
    {
        for (int f = 0; f < fields.Length; f++)
        {
            using var slot = fields[f].SliceAxis(0, row, row + 1);
            slot.Assign(sample[f]);
        }
    }

    /// <summary>Rows <paramref name="indices"/> of <paramref name="source"/>, gathered by the take operator.</summary>
    public static NDArray Rows(NDArray source, ReadOnlySpan<int> indices)
    {
        using var index = Nd.Array(indices, new Shape(indices.Length), source.Device);
        return Nd.Take(source, index);
    }
}
