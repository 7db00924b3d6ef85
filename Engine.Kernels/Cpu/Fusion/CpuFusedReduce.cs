using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Engine.Kernels.Fusion;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Runs a <see cref="FusedProgram"/> that ends with a reduction, in one pass over its inputs: the reduction driver
/// (<see cref="ReduceDriver"/>) walks the plan it would walk over the materialised register, and each line it
/// asks for is computed by the program's compiled row runner (either design) into a per-thread buffer of at most
/// one block, just before it is folded. The lines, blocks and order of the fold are those of the unfused
/// reduction of the dense register, so the result is the same bit for bit whenever the elementwise values are,
/// and does not depend on the thread count. Registers the program also materialises are written as their lines
/// are computed.
/// </summary>
public static unsafe class CpuFusedReduce
{
    /// <summary>
    /// Runs <paramref name="program"/>: <paramref name="inputs"/> broadcast to one shape (the elementwise shape),
    /// <paramref name="outputs"/> dense: the reduction's result, then one array of the elementwise shape per
    /// register in <see cref="FusedProgram.Outputs"/>.
    /// </summary>
    public static void Run(FusedProgram program, ReadOnlySpan<TensorArg> inputs, ReadOnlySpan<TensorArg> outputs)
    {
        ArgumentNullException.ThrowIfNull(program);
        var reduction = program.Reduction ?? throw new ArgumentException(
            "fused reduce: the program has no reduction; run it with CpuFusedElementwise.", nameof(program));
        if (inputs.Length != program.NumInputs || outputs.Length != program.NumOutputs)
            throw new ArgumentException(
                $"fused reduce: the program takes {program.NumInputs} inputs and gives {program.NumOutputs} " +
                $"outputs, but got {inputs.Length} and {outputs.Length}.");
        Shape shape = inputs.Length > 0 ? inputs[0].Shape : outputs.Length > 1 ? outputs[1].Shape
            : throw new ArgumentException(
                "fused reduce: a program without inputs or elementwise outputs has no shape to reduce.");
        foreach (var x in inputs)
        {
            if (x.Shape != shape || x.DType != program.DType)
                throw new ArgumentException(
                    $"fused reduce: inputs must be broadcast to {program.DType.Name()}{shape}, got {x}.");
        }
        for (int o = 1; o < outputs.Length; o++)
        {
            if (outputs[o].Shape != shape || !outputs[o].IsContiguous || outputs[o].DType != program.DType)
                throw new ArgumentException(
                    $"fused reduce: elementwise outputs must be dense {program.DType.Name()}{shape}, got " +
                    $"{outputs[o]}.");
        }
        var result = reduction.ResultShape(shape);
        if (outputs[0].Shape.Size != result.Size || !outputs[0].IsContiguous || outputs[0].DType != program.DType)
            throw new ArgumentException(
                $"fused reduce: the result must be dense {program.DType.Name()}{result}, got {outputs[0]}.");
        switch (program.DType)
        {
            case DType.Float32: RunCore<float>(program, shape, inputs, outputs); break;
            case DType.Float64: RunCore<double>(program, shape, inputs, outputs); break;
            case DType.Int32: RunCore<int>(program, shape, inputs, outputs); break;
            case DType.Int64: RunCore<long>(program, shape, inputs, outputs); break;
            default:
                throw new NotSupportedException($"fused reduce: dtype {program.DType.Name()} is not supported.");
        }
    }

    private static void RunCore<T>(FusedProgram program, Shape shape, ReadOnlySpan<TensorArg> inputs,
        ReadOnlySpan<TensorArg> outputs) where T : unmanaged
    {
        var (runner, vectorForms) = CpuFusedElementwise.Runner<T>(program);
        int n = inputs.Length;
        var strides = new long[n + 1][];
        var bases = new IntPtr[n];
        for (int k = 0; k < n; k++)
        {
            var x = inputs[k];
            x.Layout.CheckFits(x.Buffer<T>().Length, "fused reduce");
            strides[k] = x.Layout.Strides;
            bases[k] = (IntPtr)((T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(x.Buffer<T>())) + x.Offset);
        }
        strides[n] = shape.ContiguousStrides();
        var nest = LoopNest.Create(shape, strides);
        bool vector = vectorForms && CpuInstructionSet.Vector512LoopsPay;
        for (int k = 0; k < n && vector; k++) vector = nest.Strides[k][^1] is 0 or 1;
        // The elementwise part's outputs: the program's materialised registers in memory; the reduced register
        // in memory too when it is one of them, else in the per-thread line buffer (IntPtr.Zero here).
        var part = program.Elementwise;
        var outs = new IntPtr[part.Outputs.Count];
        for (int j = 0; j < outs.Length; j++)
        {
            int o = program.Outputs.ToList().IndexOf(part.Outputs[j]);
            outs[j] = o < 0 ? IntPtr.Zero
                : (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(outputs[1 + o].Elements<T>()));
        }
        var source = new FusedReduceSource<T>(runner, nest, bases, outs, program.ReducedOutput, vector);
        var reduction = program.Reduction!;
        var plan = ReducePlan.Create(TensorLayout.Contiguous(shape), reduction.Flags(shape));
        T* y = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(outputs[0].Elements<T>()));
        if (typeof(T) == typeof(float))
            CpuReduce.ReduceCore(reduction.Op, plan, (FusedReduceSource<float>)(object)source, (float*)y);
        else if (typeof(T) == typeof(double))
            CpuReduce.ReduceCore(reduction.Op, plan, (FusedReduceSource<double>)(object)source, (double*)y);
        else if (typeof(T) == typeof(int))
            CpuReduce.ReduceIntegerCore(reduction.Op, plan, (FusedReduceSource<int>)(object)source, (int*)y);
        else
            CpuReduce.ReduceIntegerCore(reduction.Op, plan, (FusedReduceSource<long>)(object)source, (long*)y);
    }
}

/// <summary>
/// Lines of a fused program's reduced register, computed on request: a line of dense positions is cut at the
/// rows of the program's loop nest and each piece run by the compiled row runner.
/// </summary>
internal readonly unsafe struct FusedReduceSource<T>(CpuFusedRunner<T> runner, LoopNest nest, IntPtr[] bases,
    IntPtr[] outputs, int reduced, bool vector) : IReduceSource<T> where T : unmanaged
{
    [ThreadStatic] private static T* buffer;
    [ThreadStatic] private static long bufferElements;

    public static bool Packs => true;

    /// <summary>
    /// Twice the memory tile: each line of a column sum is computed by one row-runner call, and longer lines read
    /// the inputs in longer runs; the accumulator and partial tiles (16 KiB of doubles) and a line (4 KiB of
    /// floats) still fit in L1.
    /// </summary>
    public static int Tile => 2 * ReduceDriver.Tile;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public T* Line(long offset, long stride, long n)
    {
        if (n > 1 && stride != 1)
            throw new InvalidOperationException(
                $"fused reduce: asked for a line with stride {stride}; lines of a dense register are contiguous.");
        T* line = outputs[reduced] != IntPtr.Zero ? (T*)outputs[reduced] + offset : Buffer(n);
        int inputs = bases.Length, w = System.Runtime.Intrinsics.Vector512<T>.Count;
        var context = new CpuFusedContext<T>();
        T** y = stackalloc T*[outputs.Length];
        context.Y = y;
        T* splat = stackalloc T[inputs * w + 1];
        long inner = nest.InnerSize;
        for (long done = 0; done < n;)
        {
            long position = offset + done, row = position / inner, column = position % inner;
            long length = Math.Min(n - done, inner - column);
            for (int k = 0; k < inputs; k++)
            {
                long s = nest.Strides[k][^1];
                T* p = (T*)bases[k] + nest.RowOffset(k, row) + column * s;
                if (s == 0)
                {
                    T* v = splat + k * w;
                    new Span<T>(v, w).Fill(*p);
                    p = v;
                }
                context.Set(k, p, s, s == 0 ? 0 : -1);
            }
            for (int j = 0; j < outputs.Length; j++)
                y[j] = j == reduced ? line + done : (T*)outputs[j] + position;
            runner.RunRow(ref context, length, vector);
            done += length;
        }
        return line;
    }

    private static T* Buffer(long elements)
    {
        if (bufferElements >= elements) return buffer;
        if (buffer != null) NativeMemory.AlignedFree(buffer);
        // At least one reduction block, so a thread allocates once.
        long size = Math.Max(elements, ReduceDriver.Block);
        buffer = (T*)NativeMemory.AlignedAlloc((nuint)(size * sizeof(T)), 64);
        bufferElements = size;
        return buffer;
    }
}
