using Engine.Ops;

namespace Engine;

public sealed partial class NDArray
{
    /// <summary>
    /// A view with a new shape. MXNet's codes: 0 copies the dim at that position, -1 infers one dim, -2 copies
    /// the remaining dims, -3 merges two dims, -4 splits one. <c>x.Reshape(0, -1)</c> flattens all but the batch.
    /// </summary>
    public NDArray Reshape(params int[] shape) => ViewOps.Reshape.Call(new ReshapeAttrs(shape), this);

    public NDArray Reshape(Shape shape) => Reshape(shape.ToArray());

    /// <summary>Permutes the axes (reverses them when none are given). Returns a view.</summary>
    public NDArray Transpose(params int[] axes) => ViewOps.Transpose.Call(new TransposeAttrs(axes), this);

    /// <summary>The transpose (axes reversed).</summary>
    public NDArray T => Transpose();

    /// <summary>Elements [begin, end) with a step along one axis, as a view.</summary>
    public NDArray SliceAxis(int axis, int begin, int end, int step = 1) =>
        ViewOps.SliceAxis.Call(new SliceAxisAttrs(axis, begin, end, step), this);

    /// <summary><c>x[i]</c>: the sub-array at index i of the first axis (negative counts from the end).</summary>
    public NDArray this[int index]
    {
        get
        {
            if (Rank == 0) throw new InvalidOperationException("NDArray: a scalar array cannot be indexed.");
            int n = Shape[0];
            if (index < -n || index >= n)
                throw new IndexOutOfRangeException(
                    $"NDArray: index {index} is out of range for axis 0 of size {n} (shape {Shape}).");
            int i = index < 0 ? index + n : index;
            using var slice = SliceAxis(0, i, i + 1);
            return slice.Reshape(Shape.Dims[1..].ToArray());
        }
    }

    /// <summary><c>x[1..3]</c>: a slice of the first axis.</summary>
    public NDArray this[Range range]
    {
        get
        {
            if (Rank == 0) throw new InvalidOperationException("NDArray: a scalar array cannot be sliced.");
            int n = Shape[0];
            int start = range.Start.GetOffset(n), end = range.End.GetOffset(n);
            if (start < 0 || end > n || start > end)
                throw new ArgumentOutOfRangeException(nameof(range),
                    $"NDArray[{range}]: the range covers [{start}, {end}) of axis 0, which has size {n} (shape " +
                    $"{Shape}); use a range within 0..{n}, or SliceAxis, which clips to the axis.");
            return SliceAxis(0, start, end);
        }
    }

    /// <summary><c>x[i, j, ...]</c>: indexes the leading axes.</summary>
    public NDArray this[params int[] indices]
    {
        get
        {
            if (indices.Length > Rank)
                throw new IndexOutOfRangeException(
                    $"NDArray: {indices.Length} indices given for an array of rank {Rank} (shape {Shape}).");
            NDArray current = this;
            foreach (int i in indices)
            {
                var next = current[i];
                if (!ReferenceEquals(current, this)) current.Dispose();
                current = next;
            }
            return ReferenceEquals(current, this) ? View(Shape, Strides, Offset) : current;
        }
    }

    /// <summary>Inserts a size-1 axis.</summary>
    public NDArray ExpandDims(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank)
            throw new ArgumentOutOfRangeException(nameof(axis),
                $"expand_dims: axis {axis} is out of range for rank {Rank}; use [{-Rank - 1}, {Rank}].");
        var dims = Shape.ToArray().ToList();
        dims.Insert(a, 1);
        return Reshape(dims.ToArray());
    }

    /// <summary>Flattens all axes after the first: (N, ...) to (N, prod(...)).</summary>
    public NDArray Flatten() => Rank == 0 ? Reshape(1, 1) : Reshape(Shape[0], (int)Shape.SizeOf(1, Rank));
}
