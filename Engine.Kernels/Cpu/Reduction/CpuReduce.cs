using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Reductions (sum, mean, max, min, prod, L2 and L1 norm) over any set of axes, and argmax/argmin along one axis,
/// of an input in any strided layout (transposed, sliced, broadcast). The output is contiguous with the reduced
/// shape; keeping the reduced axes as size 1 changes only the shape the caller reports, not the data.
/// Element types: float, double, int and long (mean and the norms: float and double only). Float sums accumulate
/// in double; results do not depend on the thread count.
/// </summary>
public static unsafe class CpuReduce
{
    /// <summary>The lower-case name errors use: sum, mean, max, min, prod, norm.</summary>
    public static string OpName(ReduceOp op) => op switch
    {
        ReduceOp.Sum => "sum",
        ReduceOp.Mean => "mean",
        ReduceOp.Max => "max",
        ReduceOp.Min => "min",
        ReduceOp.Prod => "prod",
        ReduceOp.Norm or ReduceOp.NormL1 => "norm",
        _ => throw new ArgumentOutOfRangeException(nameof(op),
            $"reduce: unknown reduction {(int)op}; use one of {string.Join(", ", Enum.GetNames<ReduceOp>())}."),
    };

    /// <summary>
    /// The shape of reducing <paramref name="input"/> over <paramref name="axes"/> (negative axes count from the
    /// end; none means all): the reduced axes are removed, or kept as size 1 when <paramref name="keepDims"/>.
    /// Out-of-range and repeated axes throw, naming <paramref name="op"/>.
    /// </summary>
    public static Shape ReducedShape(Shape input, ReadOnlySpan<int> axes, bool keepDims, string op = "reduce")
    {
        Span<bool> reduce = input.Rank <= 64 ? stackalloc bool[input.Rank] : new bool[input.Rank];
        MarkAxes(input, axes, op, reduce);
        var dims = new List<int>(input.Rank);
        for (int i = 0; i < input.Rank; i++)
        {
            if (!reduce[i]) dims.Add(input[i]);
            else if (keepDims) dims.Add(1);
        }
        return new Shape(dims.ToArray());
    }

    /// <summary>
    /// <see cref="ReducedShape(Shape, ReadOnlySpan{int}, bool, string)"/> with errors naming <paramref name="op"/>.
    /// </summary>
    public static Shape ReducedShape(ReduceOp op, Shape input, ReadOnlySpan<int> axes, bool keepDims) =>
        ReducedShape(input, axes, keepDims, OpName(op));

    /// <summary>
    /// y = op(x) over <paramref name="axes"/> (none means all). <paramref name="x"/> is read through
    /// <paramref name="xLayout"/>; <paramref name="y"/> is contiguous with the reduced shape.
    /// </summary>
    public static void Reduce<T>(ReduceOp op, ReadOnlySpan<T> x, TensorLayout xLayout, ReadOnlySpan<int> axes,
        Span<T> y) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(xLayout);
        string name = OpName(op);
        CheckElementType<T>(name, floatOnly: op is ReduceOp.Mean or ReduceOp.Norm or ReduceOp.NormL1);
        Shape shape = xLayout.Shape;
        Span<bool> reduce = shape.Rank <= 64 ? stackalloc bool[shape.Rank] : new bool[shape.Rank];
        MarkAxes(shape, axes, name, reduce);
        xLayout.CheckFits(x.Length, name);
        RejectNegativeStrides(xLayout, name);
        var (outCount, reduceCount) = Counts(shape, reduce, name);
        if (y.Length != outCount)
            throw new ArgumentException(
                $"{name}: the output has {y.Length} elements, but reducing shape {shape} over axes " +
                $"({string.Join(", ", axes.ToArray())}) gives shape {ReducedShape(shape, axes, false, name)} " +
                $"of {outCount} elements; allocate y with that shape.", nameof(y));
        if (reduceCount == 0 && outCount > 0 && op is ReduceOp.Max or ReduceOp.Min)
            throw new ArgumentException(
                $"{name}: cannot reduce over a zero-size axis of shape {shape}; {name} has no identity, so " +
                "reduce only axes of non-zero size.", nameof(x));
        var plan = ReducePlan.Create(xLayout, reduce);
        fixed (T* px = x)
        fixed (T* py = y)
        {
            if (typeof(T) == typeof(float))
                ReduceCore(op, plan, new MemoryReduceSource<float>((float*)px), (float*)py);
            else if (typeof(T) == typeof(double))
                ReduceCore(op, plan, new MemoryReduceSource<double>((double*)px), (double*)py);
            else if (typeof(T) == typeof(int))
                ReduceIntegerCore(op, plan, new MemoryReduceSource<int>((int*)px), (int*)py);
            else ReduceIntegerCore(op, plan, new MemoryReduceSource<long>((long*)px), (long*)py);
        }
    }

    /// <summary>
    /// The index along <paramref name="axis"/> of the largest (<paramref name="isMax"/>) or smallest element, for
    /// every position of the other axes; <paramref name="indices"/> is contiguous with the input shape minus that
    /// axis. Ties go to the first occurrence; NaN counts as the extreme (the first NaN wins), as in NumPy.
    /// </summary>
    public static void ArgReduce<T>(bool isMax, ReadOnlySpan<T> x, TensorLayout xLayout, int axis,
        Span<long> indices) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(xLayout);
        string name = isMax ? "argmax" : "argmin";
        CheckElementType<T>(name, floatOnly: false);
        Shape shape = xLayout.Shape;
        if (shape.Rank == 0)
            throw new ArgumentOutOfRangeException(nameof(axis),
                $"{name}: axis {axis} is out of range for an array of shape () (rank 0); a scalar has no axes, " +
                "so reshape it to (1,) first.");
        Span<bool> reduce = shape.Rank <= 64 ? stackalloc bool[shape.Rank] : new bool[shape.Rank];
        reduce[shape.NormalizeAxis(axis, name)] = true;
        xLayout.CheckFits(x.Length, name);
        RejectNegativeStrides(xLayout, name);
        var (outCount, reduceCount) = Counts(shape, reduce, name);
        if (indices.Length != outCount)
            throw new ArgumentException(
                $"{name}: the output has {indices.Length} elements, but reducing shape {shape} along axis {axis} " +
                $"gives shape {ReducedShape(shape, [axis], false, name)} of {outCount} elements; allocate the " +
                "indices with that shape.", nameof(indices));
        if (reduceCount == 0 && outCount > 0)
            throw new ArgumentException(
                $"{name}: cannot reduce over a zero-size axis of shape {shape}; an empty axis has no {name}, so " +
                "reduce along an axis of non-zero size.", nameof(x));
        var plan = ReducePlan.Create(xLayout, reduce);
        fixed (T* px = x)
        fixed (long* pi = indices)
        {
            if (typeof(T) == typeof(float)) ArgReduceDriver.Run(isMax, plan, (float*)px, pi);
            else if (typeof(T) == typeof(double)) ArgReduceDriver.Run(isMax, plan, (double*)px, pi);
            else if (typeof(T) == typeof(int)) ArgReduceDriver.Run(isMax, plan, (int*)px, pi);
            else ArgReduceDriver.Run(isMax, plan, (long*)px, pi);
        }
    }

    // ---- validation ----

    /// <summary>Flags the reduced axes (all of them when <paramref name="axes"/> is empty).</summary>
    private static void MarkAxes(Shape shape, ReadOnlySpan<int> axes, string op, Span<bool> reduce)
    {
        reduce.Clear();
        if (axes.IsEmpty)
        {
            reduce.Fill(true);
            return;
        }
        foreach (int axis in axes)
        {
            if (shape.Rank == 0)
                throw new ArgumentOutOfRangeException(nameof(axes),
                    $"{op}: axis {axis} is out of range for an array of shape () (rank 0); a scalar has no axes, " +
                    "so pass no axes to reduce it.");
            int a = shape.NormalizeAxis(axis, op);
            if (reduce[a])
                throw new ArgumentException(
                    $"{op}: axis {axis} (axis {a} of shape {shape}) appears more than once in axes " +
                    $"({string.Join(", ", axes.ToArray())}); name each axis once.", nameof(axes));
            reduce[a] = true;
        }
    }

    private static void CheckElementType<T>(string op, bool floatOnly)
    {
        bool isFloat = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        bool isInteger = typeof(T) == typeof(int) || typeof(T) == typeof(long);
        if (!isFloat && !isInteger)
            throw new ArgumentException(
                $"{op}: element type {typeof(T).Name} is not supported; use float, double, int or long.");
        if (floatOnly && !isFloat)
            throw new ArgumentException(
                $"{op}: {(typeof(T) == typeof(int) ? "int32" : "int64")} input is not supported; {op} needs " +
                "float32 or float64, so convert the array to a floating-point type first.");
    }

    /// <summary>Number of outputs and of elements reduced into each; throws if either overflows.</summary>
    private static (long Outputs, long Reduced) Counts(Shape shape, ReadOnlySpan<bool> reduce, string op)
    {
        try
        {
            long outputs = 1, reduced = 1;
            for (int i = 0; i < shape.Rank; i++)
            {
                if (reduce[i]) reduced = checked(reduced * shape[i]);
                else outputs = checked(outputs * shape[i]);
            }
            return (outputs, reduced);
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"{op}: shape {shape} has more than 2^63 elements; it cannot be reduced.");
        }
    }

    // ---- dispatch: one reducer per (element type, op); the source reads memory or computes a fused program ----

    internal static void ReduceCore<TS>(ReduceOp op, ReducePlan plan, TS x, float* y)
        where TS : IReduceSource<float>
    {
        switch (op)
        {
            case ReduceOp.Sum: Widened<SumOperator<double>, PlainFinisher<double, float>, TS>(plan, x, y); break;
            case ReduceOp.Mean: Widened<SumOperator<double>, MeanFinisher<double, float>, TS>(plan, x, y); break;
            case ReduceOp.Prod: Widened<ProdOperator<double>, PlainFinisher<double, float>, TS>(plan, x, y); break;
            case ReduceOp.Norm: Widened<SumSquaresOperator<double>, SqrtFinisher<double, float>, TS>(plan, x, y); break;
            case ReduceOp.NormL1: Widened<SumAbsOperator<double>, PlainFinisher<double, float>, TS>(plan, x, y); break;
            case ReduceOp.Max: Same<float, MaxOperator<float>, PlainFinisher<float, float>, TS>(plan, x, y); break;
            case ReduceOp.Min: Same<float, MinOperator<float>, PlainFinisher<float, float>, TS>(plan, x, y); break;
        }
    }

    internal static void ReduceCore<TS>(ReduceOp op, ReducePlan plan, TS x, double* y)
        where TS : IReduceSource<double>
    {
        switch (op)
        {
            case ReduceOp.Sum: Same<double, SumOperator<double>, PlainFinisher<double, double>, TS>(plan, x, y); break;
            case ReduceOp.Mean: Same<double, SumOperator<double>, MeanFinisher<double, double>, TS>(plan, x, y); break;
            case ReduceOp.Prod:
                Same<double, ProdOperator<double>, PlainFinisher<double, double>, TS>(plan, x, y);
                break;
            case ReduceOp.Norm:
                Same<double, SumSquaresOperator<double>, SqrtFinisher<double, double>, TS>(plan, x, y);
                break;
            case ReduceOp.NormL1:
                Same<double, SumAbsOperator<double>, PlainFinisher<double, double>, TS>(plan, x, y);
                break;
            case ReduceOp.Max: Same<double, MaxOperator<double>, PlainFinisher<double, double>, TS>(plan, x, y); break;
            case ReduceOp.Min: Same<double, MinOperator<double>, PlainFinisher<double, double>, TS>(plan, x, y); break;
        }
    }

    /// <summary>Integer sums and products wrap around (as MXNet's int32 ops); mean and norms were refused.</summary>
    internal static void ReduceIntegerCore<T, TS>(ReduceOp op, ReducePlan plan, TS x, T* y)
        where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T> where TS : IReduceSource<T>
    {
        switch (op)
        {
            case ReduceOp.Sum: Same<T, SumOperator<T>, PlainFinisher<T, T>, TS>(plan, x, y); break;
            case ReduceOp.Prod: Same<T, ProdOperator<T>, PlainFinisher<T, T>, TS>(plan, x, y); break;
            case ReduceOp.Max: Same<T, MaxOperator<T>, PlainFinisher<T, T>, TS>(plan, x, y); break;
            case ReduceOp.Min: Same<T, MinOperator<T>, PlainFinisher<T, T>, TS>(plan, x, y); break;
        }
    }

    private static void Same<T, TOp, TFinish, TS>(ReducePlan plan, TS x, T* y)
        where T : unmanaged, INumber<T> where TOp : IReduceOperator<T> where TFinish : IFinisher<T, T>
        where TS : IReduceSource<T> =>
        ReduceDriver.Run<T, T, SameTypeReducer<T, TOp, TFinish>, TS>(plan, x, y);

    private static void Widened<TOp, TFinish, TS>(ReducePlan plan, TS x, float* y)
        where TOp : IReduceOperator<double> where TFinish : IFinisher<double, float> where TS : IReduceSource<float> =>
        ReduceDriver.Run<float, double, WideningReducer<TOp, TFinish>, TS>(plan, x, y);

    /// <summary>The canonical loop nest assumes non-negative strides; callers copy reversed views first.</summary>
    private static void RejectNegativeStrides(TensorLayout layout, string name)
    {
        foreach (long stride in layout.Strides)
        {
            if (stride < 0)
                throw new ArgumentException(
                    $"{name}: negative stride {stride} in layout {layout} is not supported; copy the array first.");
        }
    }
}
