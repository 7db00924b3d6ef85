namespace Engine.Gluon.Data;

/// <summary>
/// A dataset over arrays whose first axis is the sample axis: MXNet's <c>gluon.data.ArrayDataset</c>. Sample i
/// holds <c>array[i]</c> of every array, in order (usually the data and then the label; a 1-D label array gives
/// scalar labels, which the loader stacks into a (batch,) array).
/// </summary>
/// <remarks>
/// The dataset keeps its arrays in contiguous CPU memory: an array that already is one is shared (later writes
/// to it show through), any other is copied. Samples are views. <see cref="DataLoader"/> batches an
/// ArrayDataset by copying rows straight from these arrays, without making per-sample arrays.
/// </remarks>
public class ArrayDataset : Dataset<Sample>, IDisposable
{
    private readonly NDArray[] arrays;
    private bool disposed;

    /// <summary>A dataset over one or more arrays with the same length along axis 0.</summary>
    public ArrayDataset(params NDArray[] arrays) : this(Share(Validate(arrays)), adopt: true) { }

    /// <summary>
    /// A dataset of float32 samples of <paramref name="sampleShape"/>, laid out one after another in
    /// <paramref name="data"/>, with one float32 label each.
    /// </summary>
    public ArrayDataset(float[] data, Shape sampleShape, float[] labels)
        : this(FromFloats(data, sampleShape, labels), adopt: true) { }

    /// <summary>A dataset of rows of <paramref name="data"/> (samples by features) with one label each.</summary>
    public ArrayDataset(float[,] data, float[] labels)
        : this(FromRows(data, labels), adopt: true) { }

    /// <summary>Takes ownership of contiguous CPU arrays that nothing else holds (the flag only picks this
    /// constructor over the public one).</summary>
    private protected ArrayDataset(NDArray[] owned, bool adopt)
    {
        Validate(owned);
        foreach (var a in owned) NDArrayScope.Release(a);
        arrays = owned;
    }

    public override int Count
    {
        get
        {
            ThrowIfDisposed();
            return arrays[0].Shape[0];
        }
    }

    /// <summary>The number of fields of each sample (the number of arrays).</summary>
    public int FieldCount => arrays.Length;

    /// <summary>The shape of field <paramref name="field"/> of one sample (its array's shape without axis 0).</summary>
    public Shape GetSampleShape(int field)
    {
        ThrowIfDisposed();
        if (field < 0 || field >= arrays.Length)
            throw new ArgumentOutOfRangeException(nameof(field),
                $"{GetType().Name}: field {field} does not exist; samples have {arrays.Length} field(s).");
        return new Shape(arrays[field].Shape.Dims[1..]);
    }

    protected sealed override Sample GetItem(int index)
    {
        ThrowIfDisposed();
        var fields = new NDArray[arrays.Length];
        for (int f = 0; f < arrays.Length; f++) fields[f] = arrays[f][index];
        return new Sample(fields);
    }

    /// <summary>
    /// Stacks the samples at <paramref name="indices"/> into one new CPU array per field by copying rows; runs of
    /// consecutive indices copy as one block.
    /// </summary>
    internal DataBatch Gather(ReadOnlySpan<int> indices)
    {
        ThrowIfDisposed();
        int count = arrays[0].Shape[0];
        foreach (int i in indices)
            if (i < 0 || i >= count)
                throw new ArgumentOutOfRangeException(nameof(indices),
                    $"{GetType().Name}: sample index {i} is out of range for {count} samples.");
        var fields = new NDArray[arrays.Length];
        try
        {
            for (int f = 0; f < arrays.Length; f++)
            {
                var source = arrays[f];
                var dims = source.Shape.ToArray();
                dims[0] = indices.Length;
                fields[f] = Batchify.Rows(source, indices);
            }
        }
        catch
        {
            foreach (var a in fields) a?.Dispose();
            throw;
        }
        return new DataBatch(fields);
    }

    /// <summary>Releases the dataset's arrays (arrays shared with the caller stay valid for the caller).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var a in arrays) a.Dispose();
        GC.SuppressFinalize(this);
    }

    private void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(GetType().Name,
                $"{GetType().Name}: this dataset was disposed; create it again to read samples.");
    }

    private static NDArray[] Validate(NDArray[] arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (arrays.Length == 0)
            throw new ArgumentException(
                "ArrayDataset: needs at least one array (for example the data and then the labels).",
                nameof(arrays));
        for (int i = 0; i < arrays.Length; i++)
        {
            var a = arrays[i] ?? throw new ArgumentNullException(nameof(arrays), $"ArrayDataset: array {i} is null.");
            if (a.IsDisposed)
                throw new ObjectDisposedException(nameof(NDArray),
                    $"ArrayDataset: array {i} (shape {a.Shape}) was disposed before the dataset was built.");
            if (a.Rank == 0)
                throw new ArgumentException(
                    $"ArrayDataset: array {i} is a scalar (shape {a.Shape}); every array needs the sample axis " +
                    "first, so reshape it to (samples, ...).", nameof(arrays));
            if (a.Shape[0] != arrays[0].Shape[0])
                throw new ArgumentException(
                    $"ArrayDataset: array {i} has {a.Shape[0]} samples but array 0 has {arrays[0].Shape[0]}; " +
                    "every array needs one entry per sample along axis 0.", nameof(arrays));
        }
        return arrays;
    }

    /// <summary>Views of contiguous CPU arrays (sharing their buffers) or contiguous CPU copies.</summary>
    private static NDArray[] Share(NDArray[] arrays)
    {
        var held = new NDArray[arrays.Length];
        for (int i = 0; i < arrays.Length; i++)
        {
            var a = arrays[i];
            held[i] = NDArrayScope.Release(a.Device.Kind == DeviceKind.Cpu && a.IsContiguous
                ? a.Detach()
                : a.CopyTo(Device.Cpu));
        }
        return held;
    }

    private static NDArray[] FromFloats(float[] data, Shape sampleShape, float[] labels)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labels);
        long needed = labels.Length * sampleShape.Size;
        if (data.Length != needed)
            throw new ArgumentException(
                $"ArrayDataset: {labels.Length} labels with samples of shape {sampleShape} need {needed} data " +
                $"values, but {data.Length} were given; give one label per sample.", nameof(data));
        var x = Nd.Array(data, new Shape([labels.Length, .. sampleShape.Dims]), Device.Cpu);
        var y = Nd.Array(labels, new Shape(labels.Length), Device.Cpu);
        return [x, y];
    }

    private static NDArray[] FromRows(float[,] data, float[] labels)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labels);
        if (data.GetLength(0) != labels.Length)
            throw new ArgumentException(
                $"ArrayDataset: array 1 has {labels.Length} samples but array 0 has {data.GetLength(0)}; " +
                "give one label per row of data.", nameof(labels));
        var x = Nd.Array(data, Device.Cpu);
        var y = Nd.Array(labels, new Shape(labels.Length), Device.Cpu);
        return [x, y];
    }
}
