using System.Collections;

namespace Engine.Gluon.Data;

/// <summary>
/// One batch from a <see cref="DataLoader"/>: each field of the samples stacked along a new first axis, on the
/// CPU, usually the data and then the label (<c>foreach (var (data, label) in loader)</c>). The consumer owns the
/// batch: dispose it when done (or leave it to an NDArray scope or the finalizer).
/// </summary>
public sealed class DataBatch : IReadOnlyList<NDArray>, IDisposable
{
    private readonly NDArray[] fields;

    internal DataBatch(NDArray[] fields) => this.fields = fields;

    /// <summary>The number of fields.</summary>
    public int Count => fields.Length;

    /// <summary>The number of samples in the batch.</summary>
    public int Size => fields[0].Shape[0];

    public NDArray this[int index] => index >= 0 && index < fields.Length
        ? fields[index]
        : throw new ArgumentOutOfRangeException(nameof(index),
            $"DataBatch: field {index} does not exist; this batch has {fields.Length} field(s).");

    /// <summary>The stacked first field, (batch, ...).</summary>
    public NDArray Data => fields[0];

    /// <summary>The stacked second field, (batch, ...).</summary>
    public NDArray Label => fields.Length >= 2
        ? fields[1]
        : throw new InvalidOperationException(
            "DataBatch: the dataset's samples have one field (the data) and no label; build the dataset from " +
            "two arrays (data and labels) to get labels.");

    /// <summary>True once every field is disposed.</summary>
    public bool IsDisposed => fields.All(f => f.IsDisposed);

    public void Deconstruct(out NDArray data, out NDArray label)
    {
        data = Data;
        label = Label;
    }

    public void Dispose()
    {
        foreach (var f in fields) f.Dispose();
    }

    public IEnumerator<NDArray> GetEnumerator() => ((IEnumerable<NDArray>)fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
