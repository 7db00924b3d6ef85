using Engine.Kernels;

namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// The living definition of the reductions: one odometer over every element of the input, in double for the
/// floating types and in long for the integers (with the result wrapped to int32 when asked, which is exactly
/// int32 arithmetic since wrapping commutes with + and *). Slow and obvious on purpose.
/// </summary>
public static class ReductionReference
{
    public static double[] Reduce(ReduceOp op, double[] x, TensorLayout layout, int[] axes)
    {
        var (reduce, outCount, reduceCount) = Axes(layout.Shape, axes);
        var acc = new double[outCount];
        Array.Fill(acc, op switch
        {
            ReduceOp.Prod => 1.0,
            ReduceOp.Max => double.NegativeInfinity,
            ReduceOp.Min => double.PositiveInfinity,
            _ => 0.0,
        });
        ForEach(layout, reduce, (xi, yi) =>
        {
            double v = x[xi];
            ref double a = ref acc[yi];
            a = op switch
            {
                ReduceOp.Sum or ReduceOp.Mean => a + v,
                ReduceOp.Prod => a * v,
                ReduceOp.Max => double.IsNaN(a) || double.IsNaN(v) ? double.NaN : Math.Max(a, v),
                ReduceOp.Min => double.IsNaN(a) || double.IsNaN(v) ? double.NaN : Math.Min(a, v),
                ReduceOp.Norm => a + v * v,
                ReduceOp.NormL1 => a + Math.Abs(v),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
        });
        for (int i = 0; i < outCount; i++)
        {
            if (op == ReduceOp.Mean) acc[i] /= reduceCount;
            if (op == ReduceOp.Norm) acc[i] = Math.Sqrt(acc[i]);
        }
        return acc;
    }

    /// <summary>Sum, prod, max or min of integers; <paramref name="int32"/> wraps the results to int32.</summary>
    public static long[] ReduceInteger(ReduceOp op, long[] x, TensorLayout layout, int[] axes, bool int32)
    {
        var (reduce, outCount, _) = Axes(layout.Shape, axes);
        var acc = new long[outCount];
        Array.Fill(acc, op switch
        {
            ReduceOp.Prod => 1L,
            ReduceOp.Max => long.MinValue,
            ReduceOp.Min => long.MaxValue,
            _ => 0L,
        });
        ForEach(layout, reduce, (xi, yi) =>
        {
            long v = x[xi];
            ref long a = ref acc[yi];
            a = op switch
            {
                ReduceOp.Sum => unchecked(a + v),
                ReduceOp.Prod => unchecked(a * v),
                ReduceOp.Max => Math.Max(a, v),
                ReduceOp.Min => Math.Min(a, v),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
        });
        if (int32)
        {
            for (int i = 0; i < outCount; i++) acc[i] = unchecked((int)acc[i]);
        }
        return acc;
    }

    /// <summary>Index of the first maximum (minimum) along the axis; the first NaN beats everything.</summary>
    public static long[] ArgReduce(bool isMax, double[] x, TensorLayout layout, int axis)
    {
        int a = axis < 0 ? axis + layout.Rank : axis;
        var (reduce, outCount, _) = Axes(layout.Shape, [a]);
        var best = new double[outCount];
        var at = new long[outCount];
        var seen = new bool[outCount];
        ForEach(layout, reduce, (xi, yi, index) =>
        {
            double v = x[xi];
            bool better = !seen[yi]
                || (!double.IsNaN(best[yi]) && (double.IsNaN(v) || (isMax ? v > best[yi] : v < best[yi])));
            if (!better) return;
            seen[yi] = true;
            best[yi] = v;
            at[yi] = index[a];
        });
        return at;
    }

    private static (bool[] Reduce, int OutCount, long ReduceCount) Axes(Shape shape, int[] axes)
    {
        var reduce = new bool[shape.Rank];
        if (axes.Length == 0) Array.Fill(reduce, true);
        foreach (int axis in axes) reduce[axis < 0 ? axis + shape.Rank : axis] = true;
        long outCount = 1, reduceCount = 1;
        for (int i = 0; i < shape.Rank; i++)
        {
            if (reduce[i]) reduceCount *= shape[i];
            else outCount *= shape[i];
        }
        return (reduce, (int)outCount, reduceCount);
    }

    private static void ForEach(TensorLayout layout, bool[] reduce, Action<long, int> body) =>
        ForEach(layout, reduce, (xi, yi, _) => body(xi, yi));

    /// <summary>Calls body(input offset, output index, multi-index) for every element, in row-major order.</summary>
    private static void ForEach(TensorLayout layout, bool[] reduce, Action<long, int, int[]> body)
    {
        Shape shape = layout.Shape;
        if (shape.Size == 0) return;
        var index = new int[shape.Rank];
        while (true)
        {
            long xi = layout.Offset;
            int yi = 0;
            for (int i = 0; i < shape.Rank; i++)
            {
                xi += index[i] * layout.Strides[i];
                if (!reduce[i]) yi = yi * shape[i] + index[i];
            }
            body(xi, yi, index);
            int d = shape.Rank - 1;
            while (d >= 0 && ++index[d] == shape[d]) index[d--] = 0;
            if (d < 0) return;
        }
    }
}
