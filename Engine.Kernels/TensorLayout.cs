namespace Engine;

/// <summary>
/// How an array's elements sit in its buffer: shape, strides in elements (0 for a broadcast dimension) and the
/// offset of element [0, ..., 0]. Kernels that accept arbitrary layouts take this; the rest take contiguous spans.
/// </summary>
public sealed class TensorLayout
{
    public TensorLayout(Shape shape, long[] strides, long offset = 0)
    {
        ArgumentNullException.ThrowIfNull(strides);
        if (strides.Length != shape.Rank)
            throw new ArgumentException(
                $"TensorLayout: {strides.Length} strides given for shape {shape} of rank {shape.Rank}.");
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    public static TensorLayout Contiguous(Shape shape) => new(shape, shape.ContiguousStrides());

    /// <summary>
    /// This layout seen with NumPy broadcasting as <paramref name="shape"/>: new leading dimensions and dimensions
    /// of size 1 that grow get stride 0. The shapes must be broadcast-compatible (checked by the caller's rule).
    /// </summary>
    public TensorLayout BroadcastTo(Shape shape)
    {
        if (shape == Shape) return this;
        int pad = shape.Rank - Rank;
        var strides = new long[shape.Rank];
        for (int i = 0; i < shape.Rank; i++)
        {
            int j = i - pad;
            strides[i] = j < 0 || Shape[j] == 1 && shape[i] != 1 ? 0 : Strides[j];
        }
        return new TensorLayout(shape, strides, Offset);
    }

    public Shape Shape { get; }

    public long[] Strides { get; }

    public long Offset { get; }

    public int Rank => Shape.Rank;

    public bool IsContiguous
    {
        get
        {
            long s = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && Strides[i] != s) return false;
                s *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>
    /// One past the largest element index this layout touches (0 for an empty array). Negative strides (reversed
    /// slices) are allowed; <see cref="CheckFits"/> checks that they stay inside the buffer.
    /// </summary>
    public long Extent
    {
        get
        {
            if (Shape.Size == 0) return 0;
            long max = Offset;
            for (int i = 0; i < Rank; i++) max += (Shape[i] - 1) * Math.Max(0, Strides[i]);
            return max + 1;
        }
    }

    /// <summary>Throws unless every element lies inside a buffer of <paramref name="length"/> elements.</summary>
    public void CheckFits(long length, string op)
    {
        if (Shape.Size == 0) return;
        long min = Offset;
        for (int i = 0; i < Rank; i++) min += (Shape[i] - 1) * Math.Min(0, Strides[i]);
        if (min < 0)
            throw new ArgumentException(
                $"{op}: layout {Shape} with strides ({string.Join(", ", Strides)}) and offset {Offset} reaches " +
                $"element {min}, before the start of the buffer.");
        if (Extent > length)
            throw new ArgumentException(
                $"{op}: layout {Shape} with strides ({string.Join(", ", Strides)}) and offset {Offset} reaches " +
                $"element {Extent - 1}, past the buffer of {length} elements.");
    }

    public override string ToString() => $"{Shape} strides ({string.Join(", ", Strides)}) offset {Offset}";
}
