using System.Collections;

namespace Engine.Gluon.Data;

/// <summary>
/// One sample of a dataset: its fields in order, usually the data and then the label
/// (<c>var (data, label) = dataset[i];</c>). MXNet returns a tuple here.
/// </summary>
public sealed class Sample : IReadOnlyList<NDArray>, IDisposable
{
    private readonly NDArray[] fields;

    public Sample(params NDArray[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Length == 0)
            throw new ArgumentException("Sample: needs at least one field (the data).", nameof(fields));
        for (int i = 0; i < fields.Length; i++)
            if (fields[i] is null)
                throw new ArgumentNullException(nameof(fields), $"Sample: field {i} is null.");
        this.fields = (NDArray[])fields.Clone();
    }

    public int Count => fields.Length;

    public NDArray this[int index] => index >= 0 && index < fields.Length
        ? fields[index]
        : throw new ArgumentOutOfRangeException(nameof(index),
            $"Sample: field {index} does not exist; this sample has {fields.Length} field(s).");

    /// <summary>The first field.</summary>
    public NDArray Data => fields[0];

    /// <summary>The second field.</summary>
    public NDArray Label => fields.Length >= 2
        ? fields[1]
        : throw new InvalidOperationException(
            "Sample: this sample has one field (the data) and no label; build the dataset from two arrays " +
            "(data and labels) to get labelled samples.");

    public void Deconstruct(out NDArray data, out NDArray label)
    {
        data = Data;
        label = Label;
    }

    /// <summary>A sample with the first field replaced and the other fields shared.</summary>
    public Sample WithData(NDArray data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var copy = (NDArray[])fields.Clone();
        copy[0] = data;
        return new Sample(copy);
    }

    /// <summary>Disposes every field.</summary>
    public void Dispose()
    {
        foreach (var f in fields) f.Dispose();
    }

    public IEnumerator<NDArray> GetEnumerator() => ((IEnumerable<NDArray>)fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
