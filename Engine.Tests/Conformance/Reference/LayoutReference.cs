using Engine.Kernels;

namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// The layout kernels written the obvious way: one element at a time through its multi-index. The living
/// definition the CpuLayout kernels are compared against.
/// </summary>
public static class LayoutReference
{
    /// <summary>The multi-index of row-major position <paramref name="linear"/> in <paramref name="dims"/>.</summary>
    public static int[] Unravel(long linear, ReadOnlySpan<int> dims)
    {
        var index = new int[dims.Length];
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            index[i] = (int)(linear % dims[i]);
            linear /= dims[i];
        }
        return index;
    }

    public static long Position(int[] index, long[] strides, long offset)
    {
        long p = offset;
        for (int i = 0; i < index.Length; i++) p += index[i] * strides[i];
        return p;
    }

    /// <summary>A copy of <paramref name="dst"/> with every element of the source layout copied in.</summary>
    public static T[] Copy<T>(T[] src, TensorLayout srcLayout, T[] dst, TensorLayout dstLayout)
    {
        var result = (T[])dst.Clone();
        long size = srcLayout.Shape.Size;
        for (long k = 0; k < size; k++)
        {
            int[] index = Unravel(k, srcLayout.Shape.Dims);
            result[Position(index, dstLayout.Strides, dstLayout.Offset)] =
                src[Position(index, srcLayout.Strides, srcLayout.Offset)];
        }
        return result;
    }

    public static T[] Concat<T>(IReadOnlyList<T[]> inputs, IReadOnlyList<Shape> shapes, int axis)
    {
        var dims = shapes[0].ToArray();
        dims[axis] = shapes.Sum(s => s[axis]);
        var outShape = new Shape(dims);
        var result = new T[outShape.Size];
        long[] outStrides = outShape.ContiguousStrides();
        int start = 0;
        for (int k = 0; k < inputs.Count; k++)
        {
            for (long e = 0; e < inputs[k].Length; e++)
            {
                int[] index = Unravel(e, shapes[k].Dims);
                index[axis] += start;
                result[Position(index, outStrides, 0)] = inputs[k][e];
            }
            start += shapes[k][axis];
        }
        return result;
    }

    /// <summary>The indices Python's slice(begin, end, step) selects from an axis of size n.</summary>
    public static List<int> PythonRange(int n, int? begin, int? end, int? step)
    {
        int s = step ?? 1;
        int lower = s > 0 ? 0 : -1, upper = s > 0 ? n : n - 1;
        int b = begin is int bb ? (bb < 0 ? Math.Max(bb + n, lower) : Math.Min(bb, upper)) : (s < 0 ? upper : lower);
        int e = end is int ee ? (ee < 0 ? Math.Max(ee + n, lower) : Math.Min(ee, upper)) : (s < 0 ? lower : upper);
        var list = new List<int>();
        for (int i = b; s > 0 ? i < e : i > e; i += s) list.Add(i);
        return list;
    }

    /// <summary>NumPy's x[b0:e0:s0, b1:e1:s1, ...], with axes past the tuples taken whole.</summary>
    public static T[] Slice<T>(T[] src, Shape shape, int?[] begin, int?[] end, int?[] step, out Shape outShape)
    {
        var ranges = new List<int>[shape.Rank];
        for (int a = 0; a < shape.Rank; a++)
        {
            ranges[a] = a < begin.Length
                ? PythonRange(shape[a], begin[a], end[a], step.Length == 0 ? null : step[a])
                : PythonRange(shape[a], null, null, null);
        }
        outShape = new Shape(ranges.Select(r => r.Count).ToArray());
        long[] strides = shape.ContiguousStrides();
        var result = new T[outShape.Size];
        for (long k = 0; k < result.Length; k++)
        {
            int[] index = Unravel(k, outShape.Dims);
            for (int a = 0; a < index.Length; a++) index[a] = ranges[a][index[a]];
            result[k] = src[Position(index, strides, 0)];
        }
        return result;
    }

    public static long ResolveIndex(long k, long n, TakeMode mode) => mode switch
    {
        TakeMode.Clip => k < 0 ? 0 : k >= n ? n - 1 : k,
        TakeMode.Wrap => ((k % n) + n) % n,
        _ => k < 0 ? k + n : k,
    };

    public static T[] Take<T>(T[] data, Shape shape, long[] indices, int axis, TakeMode mode)
    {
        long outer = shape.SizeOf(0, axis), inner = shape.SizeOf(axis + 1, shape.Rank), n = shape[axis];
        var result = new T[outer * indices.Length * inner];
        for (long o = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
                for (long i = 0; i < inner; i++)
                    result[(o * indices.Length + j) * inner + i] =
                        data[(o * n + ResolveIndex(indices[j], n, mode)) * inner + i];
        return result;
    }

    public static double[] TakeBackward(double[] dy, long[] indices, Shape shape, int axis, TakeMode mode)
    {
        long outer = shape.SizeOf(0, axis), inner = shape.SizeOf(axis + 1, shape.Rank), n = shape[axis];
        var dx = new double[shape.Size];
        for (long o = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
                for (long i = 0; i < inner; i++)
                    dx[(o * n + ResolveIndex(indices[j], n, mode)) * inner + i] +=
                        dy[(o * indices.Length + j) * inner + i];
        return dx;
    }

    public static T[] OneHot<T>(long[] indices, int depth, T on, T off)
    {
        var result = new T[indices.Length * depth];
        for (int j = 0; j < indices.Length; j++)
            for (int k = 0; k < depth; k++)
                result[j * depth + k] = indices[j] == k ? on : off;
        return result;
    }

    /// <summary>The input index output index j of an axis reads, or -1 for the constant border.</summary>
    public static int PadSource(int j, int before, int n, PadMode mode)
    {
        int k = j - before;
        if (k >= 0 && k < n) return k;
        switch (mode)
        {
            case PadMode.Edge:
                return k < 0 ? 0 : n - 1;
            case PadMode.Reflect:
                while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k;
                return k;
            default:
                return -1;
        }
    }

    public static Shape PaddedShape(Shape shape, int[] before, int[] after) =>
        new(shape.Dims.ToArray().Select((d, i) => d + before[i] + after[i]).ToArray());

    public static T[] Pad<T>(T[] src, Shape shape, int[] before, int[] after, PadMode mode, T value)
    {
        Shape outShape = PaddedShape(shape, before, after);
        long[] strides = shape.ContiguousStrides();
        var result = new T[outShape.Size];
        for (long k = 0; k < result.Length; k++)
        {
            int[] index = Unravel(k, outShape.Dims);
            bool border = false;
            for (int a = 0; a < index.Length; a++)
            {
                index[a] = PadSource(index[a], before[a], shape[a], mode);
                border |= index[a] < 0;
            }
            result[k] = border ? value : src[Position(index, strides, 0)];
        }
        return result;
    }

    /// <summary>Pad's gradient as a scatter-add of dy onto the input each output element read.</summary>
    public static double[] PadBackward(double[] dy, Shape shape, int[] before, int[] after, PadMode mode)
    {
        Shape outShape = PaddedShape(shape, before, after);
        long[] strides = shape.ContiguousStrides();
        var dx = new double[shape.Size];
        for (long k = 0; k < dy.Length; k++)
        {
            int[] index = Unravel(k, outShape.Dims);
            bool border = false;
            for (int a = 0; a < index.Length; a++)
            {
                index[a] = PadSource(index[a], before[a], shape[a], mode);
                border |= index[a] < 0;
            }
            if (!border) dx[Position(index, strides, 0)] += dy[k];
        }
        return dx;
    }
}
