using Engine.Kernels.Cpu;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Reductions on the GPU over any set of axes of a strided input: each output's elements are found through two
/// strided indices (kept axes, reduced axes). Long reductions take one group per output and a shared-memory tree;
/// short ones one thread per output. Float sums, means and norms accumulate in double, as on the CPU.
/// </summary>
public static class GpuReduce
{
    /// <summary>Below this many elements per output one thread reduces each output alone.</summary>
    private const int GroupThreshold = 64;

    private const int MaxGroup = 256;

    /// <summary>y = op(x) over <paramref name="axes"/> (none: all); y contiguous with the reduced shape.</summary>
    public static void Reduce(GpuRuntime runtime, ReduceOp op, in TensorArg x, ReadOnlySpan<int> axes,
        in TensorArg y)
    {
        string name = CpuReduce.OpName(op);
        var plan = Plan(name, x, axes, y);
        if (plan.Outputs == 0) return;
        if (plan.Count == 0 && op is ReduceOp.Max or ReduceOp.Min)
            throw new ArgumentException(
                $"{name}: cannot reduce over a zero-size axis of shape {x.Shape}; {name} has no identity, so " +
                "reduce only axes of non-zero size.");
        switch (x.DType)
        {
            case DType.Float32:
                switch (op)
                {
                    case ReduceOp.Sum: Run<float, double, FloatSumReducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.Mean: Run<float, double, FloatMeanReducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.Norm: Run<float, double, FloatNormReducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.NormL1: Run<float, double, FloatNormL1Reducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.Prod: Run<float, double, FloatProdReducer>(runtime, plan, x, y, 1.0); break;
                    case ReduceOp.Max:
                        Run<float, float, MaxReducer<float>>(runtime, plan, x, y, float.NegativeInfinity); break;
                    default:
                        Run<float, float, MinReducer<float>>(runtime, plan, x, y, float.PositiveInfinity); break;
                }
                break;
            case DType.Float64:
                switch (op)
                {
                    case ReduceOp.Sum: Run<double, double, SumReducer<double>>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.Mean: Run<double, double, MeanReducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.Norm: Run<double, double, NormReducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.NormL1: Run<double, double, NormL1Reducer>(runtime, plan, x, y, 0.0); break;
                    case ReduceOp.Prod: Run<double, double, ProdReducer<double>>(runtime, plan, x, y, 1.0); break;
                    case ReduceOp.Max:
                        Run<double, double, MaxReducer<double>>(runtime, plan, x, y, double.NegativeInfinity); break;
                    default:
                        Run<double, double, MinReducer<double>>(runtime, plan, x, y, double.PositiveInfinity); break;
                }
                break;
            case DType.Int32:
                RunInteger(runtime, op, name, plan, x, y, 0, 1, int.MinValue, int.MaxValue);
                break;
            case DType.Int64:
                RunInteger(runtime, op, name, plan, x, y, 0L, 1L, long.MinValue, long.MaxValue);
                break;
            default:
                throw new ArgumentException(
                    $"{name}: element type {x.DType.Name()} is not supported; use float32, float64, int32 or int64.");
        }
    }

    private static void RunInteger<T>(GpuRuntime runtime, ReduceOp op, string name, ReducePlan plan, in TensorArg x,
        in TensorArg y, T zero, T one, T min, T max) where T : unmanaged, System.Numerics.INumber<T>
    {
        switch (op)
        {
            case ReduceOp.Sum: Run<T, T, SumReducer<T>>(runtime, plan, x, y, zero); break;
            case ReduceOp.Prod: Run<T, T, ProdReducer<T>>(runtime, plan, x, y, one); break;
            case ReduceOp.Max: Run<T, T, MaxReducer<T>>(runtime, plan, x, y, min); break;
            case ReduceOp.Min: Run<T, T, MinReducer<T>>(runtime, plan, x, y, max); break;
            default:
                throw new ArgumentException(
                    $"{name}: integer inputs are not supported for {name}; cast to float32 first.");
        }
    }

    /// <summary>
    /// For every position of the other axes, the index along <paramref name="axis"/> of the largest
    /// (<paramref name="isMax"/>) or smallest element, as int64; ties go to the first, and the first NaN wins.
    /// </summary>
    public static void ArgReduce(GpuRuntime runtime, bool isMax, in TensorArg x, int axis, in TensorArg indices)
    {
        string name = isMax ? "argmax" : "argmin";
        if (x.Shape.Rank == 0)
            throw new ArgumentOutOfRangeException(nameof(axis),
                $"{name}: axis {axis} is out of range for an array of shape () (rank 0); reshape it to (1,) first.");
        int a = x.Shape.NormalizeAxis(axis, name);
        var plan = Plan(name, x, [a], indices, indexOutput: true);
        if (plan.Outputs == 0) return;
        if (plan.Count == 0)
            throw new ArgumentException(
                $"{name}: cannot reduce over a zero-size axis of shape {x.Shape}; an empty axis has no {name}.");
        switch (x.DType)
        {
            case DType.Float32: ArgCore<float>(runtime, isMax, plan, x, indices); break;
            case DType.Float64: ArgCore<double>(runtime, isMax, plan, x, indices); break;
            case DType.Int32: ArgCore<int>(runtime, isMax, plan, x, indices); break;
            case DType.Int64: ArgCore<long>(runtime, isMax, plan, x, indices); break;
            default:
                throw new ArgumentException(
                    $"{name}: element type {x.DType.Name()} is not supported; use float32, float64, int32 or int64.");
        }
    }

    private static void ArgCore<T>(GpuRuntime rt, bool isMax, ReducePlan plan, in TensorArg x, in TensorArg indices)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        string name = isMax ? "argmax" : "argmin";
        var xv = x.Buffer<T>(rt, name);
        var iv = indices.Elements<long>(rt, name);
        rt.Kernels.Load<ArrayView<T>, StridedIndex, StridedIndex, ArrayView<long>, int, int, int>(ArgKernel<T>)(
            rt.Stream, rt.GridStride(plan.Outputs), xv, plan.Outer, plan.Inner, iv, isMax ? 1 : 0, plan.Outputs,
            plan.Count);
    }

    private static void Run<T, A, TR>(GpuRuntime rt, ReducePlan plan, in TensorArg x, in TensorArg y, A identity)
        where T : unmanaged where A : unmanaged where TR : struct, IGpuReducer<T, A> =>
        Run<T, A, TR, GpuMemorySource<T>>(rt, plan, new GpuMemorySource<T>(x.Buffer<T>(rt, "reduce")), y, identity);

    /// <summary>
    /// The reduction of the elements <paramref name="xv"/> gives: read from memory, or computed by a fused
    /// program (GpuFusedReduce). The kernels, groups and order of the fold are the same either way.
    /// </summary>
    internal static void Run<T, A, TR, TS>(GpuRuntime rt, ReducePlan plan, TS xv, in TensorArg y, A identity)
        where T : unmanaged where A : unmanaged where TR : struct, IGpuReducer<T, A>
        where TS : struct, IGpuReduceSource<T>
    {
        string name = "reduce";
        var yv = y.Elements<T>(rt, name);
        if (plan.Count < GroupThreshold)
        {
            rt.Kernels.Load<TS, StridedIndex, StridedIndex, ArrayView<T>, TR, A, int, int>(
                ThreadKernel<T, A, TR, TS>)(rt.Stream, rt.GridStride(plan.Outputs), xv, plan.Outer, plan.Inner, yv,
                default, identity, plan.Outputs, plan.Count);
            return;
        }
        int splits = Splits(rt, plan);
        if (splits > 1)
        {
            // Few long reductions (a sum of everything): each is cut into chunks reduced by groups of their own,
            // then one thread per output combines its chunks in order, so the device is full and results fixed.
            int chunk = (plan.Count + splits - 1) / splits;
            using var partials = rt.Allocate((long)plan.Outputs * splits * Unsafe.SizeOf<A>());
            var pv = ((GpuBuffer)partials).View<A>();
            rt.Kernels.Load<TS, StridedIndex, StridedIndex, ArrayView<A>, TR, A, int, int, int>(
                PartialKernel<T, A, TR, TS>)(rt.Stream, new KernelConfig(Math.Min(plan.Outputs * splits, 65535),
                rt.GroupSize), xv, plan.Outer, plan.Inner, pv, default, identity, plan.Outputs * splits, plan.Count,
                chunk);
            rt.Kernels.Load<ArrayView<A>, ArrayView<T>, TR, A, int, int, int>(CombineKernel<T, A, TR>)(rt.Stream,
                rt.GridStride(plan.Outputs), pv, yv, default, identity, plan.Outputs, splits, plan.Count);
            return;
        }
        int groups = Math.Min(plan.Outputs, 65535);
        rt.Kernels.Load<TS, StridedIndex, StridedIndex, ArrayView<T>, TR, A, int, int>(
            GroupKernel<T, A, TR, TS>)(rt.Stream, new KernelConfig(groups, rt.GroupSize), xv, plan.Outer, plan.Inner,
            yv, default, identity, plan.Outputs, plan.Count);
    }

    /// <summary>
    /// Chunks per output: 1 when there are enough outputs to fill the device, else enough chunks of at least
    /// <see cref="MinChunk"/> elements for about four groups per multiprocessor (four groups on the simulator).
    /// </summary>
    private static int Splits(GpuRuntime rt, ReducePlan plan)
    {
        int target = rt.IsSimulator ? 4 : Math.Max(1, rt.Accelerator.NumMultiprocessors) * 4;
        if (plan.Outputs >= target || plan.Count < 2 * MinChunk) return 1;
        int wanted = (target + plan.Outputs - 1) / plan.Outputs;
        return Math.Max(1, Math.Min(wanted, plan.Count / MinChunk));
    }

    /// <summary>Smallest chunk of a split reduction: below it a group spends more time starting than reading.
    /// </summary>
    private const int MinChunk = 4096;

    private static void ThreadKernel<T, A, TR, TS>(TS x, StridedIndex outer, StridedIndex inner,
        ArrayView<T> y, TR r, A identity, int outputs, int count)
        where T : unmanaged where A : unmanaged where TR : struct, IGpuReducer<T, A>
        where TS : struct, IGpuReduceSource<T>
    {
        for (int o = Grid.GlobalIndex.X; o < outputs; o += Grid.DimX * Group.DimX)
        {
            int start = outer.At(o);
            A acc = identity;
            for (int i = 0; i < count; i++) acc = r.Combine(acc, r.Map(x.Read(start + inner.At(i))));
            y[o] = r.Finish(acc, count);
        }
    }

    private static void GroupKernel<T, A, TR, TS>(TS x, StridedIndex outer, StridedIndex inner,
        ArrayView<T> y, TR r, A identity, int outputs, int count)
        where T : unmanaged where A : unmanaged where TR : struct, IGpuReducer<T, A>
        where TS : struct, IGpuReduceSource<T>
    {
        var partial = SharedMemory.Allocate<A>(MaxGroup);
        int t = Group.IdxX;
        for (int o = Grid.IdxX; o < outputs; o += Grid.DimX)
        {
            int start = outer.At(o);
            A acc = identity;
            for (int i = t; i < count; i += Group.DimX) acc = r.Combine(acc, r.Map(x.Read(start + inner.At(i))));
            partial[t] = acc;
            Group.Barrier();
            // A tree over the group (its size is a power of two); a fixed order, so results are reproducible.
            for (int s = Group.DimX / 2; s > 0; s >>= 1)
            {
                if (t < s) partial[t] = r.Combine(partial[t], partial[t + s]);
                Group.Barrier();
            }
            if (t == 0) y[o] = r.Finish(partial[0], count);
            Group.Barrier();
        }
    }

    private static void PartialKernel<T, A, TR, TS>(TS x, StridedIndex outer, StridedIndex inner,
        ArrayView<A> partials, TR r, A identity, int parts, int count, int chunk)
        where T : unmanaged where A : unmanaged where TR : struct, IGpuReducer<T, A>
        where TS : struct, IGpuReduceSource<T>
    {
        var partial = SharedMemory.Allocate<A>(MaxGroup);
        int t = Group.IdxX;
        int splits = (count + chunk - 1) / chunk;
        for (int part = Grid.IdxX; part < parts; part += Grid.DimX)
        {
            int o = part / splits, s = part - o * splits;
            int start = outer.At(o), end = (s + 1) * chunk < count ? (s + 1) * chunk : count;
            A acc = identity;
            for (int i = s * chunk + t; i < end; i += Group.DimX)
                acc = r.Combine(acc, r.Map(x.Read(start + inner.At(i))));
            partial[t] = acc;
            Group.Barrier();
            for (int w = Group.DimX / 2; w > 0; w >>= 1)
            {
                if (t < w) partial[t] = r.Combine(partial[t], partial[t + w]);
                Group.Barrier();
            }
            if (t == 0) partials[part] = partial[0];
            Group.Barrier();
        }
    }

    private static void CombineKernel<T, A, TR>(ArrayView<A> partials, ArrayView<T> y, TR r, A identity,
        int outputs, int splits, int count)
        where T : unmanaged where A : unmanaged where TR : struct, IGpuReducer<T, A>
    {
        for (int o = Grid.GlobalIndex.X; o < outputs; o += Grid.DimX * Group.DimX)
        {
            A acc = identity;
            for (int s = 0; s < splits; s++) acc = r.Combine(acc, partials[o * splits + s]);
            y[o] = r.Finish(acc, count);
        }
    }

    private static void ArgKernel<T>(ArrayView<T> x, StridedIndex outer, StridedIndex inner, ArrayView<long> indices,
        int isMax, int outputs, int count) where T : unmanaged, System.Numerics.INumber<T>
    {
        for (int o = Grid.GlobalIndex.X; o < outputs; o += Grid.DimX * Group.DimX)
        {
            int start = outer.At(o);
            int best = 0;
            T value = x[start + inner.At(0)];
            if (!T.IsNaN(value))
            {
                for (int i = 1; i < count; i++)
                {
                    T v = x[start + inner.At(i)];
                    if (T.IsNaN(v))
                    {
                        best = i;
                        break;
                    }
                    if (isMax != 0 ? v > value : v < value)
                    {
                        value = v;
                        best = i;
                    }
                }
            }
            indices[o] = best;
        }
    }

    /// <summary>Validated sizes and the two strided indices of a reduction.</summary>
    internal readonly record struct ReducePlan(int Outputs, int Count, StridedIndex Outer, StridedIndex Inner);

    private static ReducePlan Plan(string name, in TensorArg x, ReadOnlySpan<int> axes, in TensorArg y,
        bool indexOutput = false)
    {
        GpuTensor.CheckSize(x, name);
        return Plan(name, x.Layout, x.DType, axes, y, indexOutput);
    }

    /// <summary>The plan over a dense array of <paramref name="shape"/> (a fused program's register).</summary>
    internal static ReducePlan DensePlan(string name, Shape shape, DType dtype, ReadOnlySpan<int> axes,
        in TensorArg y) => Plan(name, TensorLayout.Contiguous(shape), dtype, axes, y, false);

    private static ReducePlan Plan(string name, TensorLayout layout, DType dtype, ReadOnlySpan<int> axes,
        in TensorArg y, bool indexOutput)
    {
        var shape = layout.Shape;
        var reduce = new bool[shape.Rank];
        if (axes.IsEmpty) Array.Fill(reduce, true);
        foreach (int axis in axes)
        {
            int a = shape.NormalizeAxis(axis, name);
            if (reduce[a])
                throw new ArgumentException($"{name}: axis {axis} is given twice for shape {shape}.");
            reduce[a] = true;
        }
        var keptDims = new List<long>();
        var keptStrides = new List<long>();
        var redDims = new List<long>();
        var redStrides = new List<long>();
        for (int d = 0; d < shape.Rank; d++)
        {
            (reduce[d] ? redDims : keptDims).Add(shape[d]);
            (reduce[d] ? redStrides : keptStrides).Add(layout.Strides[d]);
        }
        long outputs = keptDims.Aggregate(1L, (p, v) => p * v);
        long count = redDims.Aggregate(1L, (p, v) => p * v);
        if (y.Size != outputs)
            throw new ArgumentException(
                $"{name}: the output has {y.Size} elements, but reducing shape {shape} over axes " +
                $"({string.Join(", ", axes.ToArray())}) gives {outputs}; allocate the output with the reduced shape.");
        if (indexOutput ? y.DType != DType.Int64 : y.DType != dtype)
            throw new ArgumentException(
                $"{name}: the output is {y.DType.Name()}, expected {(indexOutput ? "int64" : dtype.Name())}.");
        var outer = Nest(keptDims, keptStrides, layout.Offset);
        var inner = Nest(redDims, redStrides, 0);
        return new ReducePlan((int)outputs, (int)count, outer, inner);
    }

    private static StridedIndex Nest(List<long> dims, List<long> strides, long offset)
    {
        if (dims.Count == 0) return StridedIndex.Create([1], [0], offset);
        var nest = LoopNest.Create(new Shape(dims.Select(d => (int)d).ToArray()), strides.ToArray());
        return StridedIndex.Create(nest.Dims, nest.Strides[0], offset);
    }
}
