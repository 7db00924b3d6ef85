using System.Collections;
using System.Text;

namespace Engine;

/// <summary>
/// The dimensions of an n-dimensional array, row-major (C order). Immutable; rank 0 is a scalar of size 1.
/// </summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? dims;

    public Shape(params int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        long size = 1;
        bool overflow = false;
        foreach (int d in dimensions)
        {
            if (d < 0)
                throw new ArgumentException(
                    $"Shape: dimensions must be non-negative, got ({string.Join(", ", dimensions)}).",
                    nameof(dimensions));
            if (d == 0) size = 0;
            else if (size > long.MaxValue / d) overflow = true;
            else size *= d;
        }
        // Size is a long; a shape whose product does not fit (and has no zero dimension) would wrap silently.
        if (overflow && size != 0)
            throw new ArgumentException(
                $"Shape: ({string.Join(", ", dimensions)}) has more elements than a 64-bit count can hold.",
                nameof(dimensions));
        dims = (int[])dimensions.Clone();
    }

    public Shape(ReadOnlySpan<int> dimensions) : this(dimensions.ToArray()) { }

    /// <summary>The scalar shape ().</summary>
    public static Shape Scalar => new(Array.Empty<int>());

    public int Rank => dims?.Length ?? 0;

    public int Count => Rank;

    public int this[int axis] => Dims[axis < 0 ? axis + Rank : axis];

    /// <summary>Number of elements: the product of the dimensions (1 for a scalar).</summary>
    public long Size
    {
        get
        {
            long n = 1;
            foreach (int d in Dims) n *= d;
            return n;
        }
    }

    public ReadOnlySpan<int> Dims => dims ?? Array.Empty<int>();

    public int[] ToArray() => Dims.ToArray();

    /// <summary>Row-major strides in elements.</summary>
    public long[] ContiguousStrides()
    {
        var strides = new long[Rank];
        long s = 1;
        for (int i = Rank - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Dims[i];
        }
        return strides;
    }

    /// <summary>Maps a possibly negative axis into [0, Rank), or throws naming the operator.</summary>
    public int NormalizeAxis(int axis, string op)
    {
        int r = Rank;
        if (axis < -r || axis >= r)
            throw new ArgumentOutOfRangeException(nameof(axis),
                $"{op}: axis {axis} is out of range for an array of shape {this} (rank {r}); " +
                $"use an axis in [{-r}, {r - 1}].");
        return axis < 0 ? axis + r : axis;
    }

    /// <summary>Product of dims in [start, end).</summary>
    public long SizeOf(int start, int end)
    {
        long n = 1;
        for (int i = start; i < end; i++) n *= Dims[i];
        return n;
    }

    public Shape With(int axis, int value)
    {
        var d = ToArray();
        d[NormalizeAxis(axis, "Shape.With")] = value;
        return new Shape(d);
    }

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public static implicit operator Shape(int[] dimensions) => new(dimensions);

    /// <summary>MXNet's spelling: (2, 3), (5,) and () for a scalar.</summary>
    public override string ToString()
    {
        if (Rank == 1) return $"({Dims[0]},)";
        var sb = new StringBuilder("(");
        for (int i = 0; i < Rank; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Dims[i]);
        }
        return sb.Append(')').ToString();
    }

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)(dims ?? Array.Empty<int>())).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
