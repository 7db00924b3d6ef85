using System.Collections;

namespace Engine.Ops;

/// <summary>
/// An immutable list of integers with value equality (kernel sizes, strides, axes, target shapes), so operator
/// attributes compare and hash by value and can key a graph cache or common-subexpression elimination. Converts
/// implicitly from int[] (copying it).
/// </summary>
[System.Runtime.CompilerServices.CollectionBuilder(typeof(Dims), nameof(Create))]
public readonly struct Dims : IEquatable<Dims>, IReadOnlyList<int>
{
    private readonly int[]? values;

    public Dims(params int[] values) => this.values = values is null ? [] : (int[])values.Clone();

    public static Dims Empty => default;

    /// <summary>For collection expressions: <c>Dims d = [1, 2];</c></summary>
    public static Dims Create(ReadOnlySpan<int> values) => new(values.ToArray());

    public int Length => values?.Length ?? 0;

    public int Count => Length;

    public int this[int index] => (values ?? [])[index];

    public ReadOnlySpan<int> AsSpan() => values;

    public int[] ToArray() => values is null ? [] : (int[])values.Clone();

    public bool Equals(Dims other) => AsSpan().SequenceEqual(other.AsSpan());

    public override bool Equals(object? obj) => obj is Dims d && Equals(d);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int v in AsSpan()) h.Add(v);
        return h.ToHashCode();
    }

    public static bool operator ==(Dims a, Dims b) => a.Equals(b);

    public static bool operator !=(Dims a, Dims b) => !a.Equals(b);

    public static implicit operator Dims(int[] values) => new(values);

    public static implicit operator ReadOnlySpan<int>(Dims dims) => dims.AsSpan();

    public static implicit operator Dims(Shape shape) => new(shape.ToArray());

    public Shape ToShape() => new(ToArray());

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)(values ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"({string.Join(", ", AsSpan().ToArray())})";
}
