using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Engine.Kernels.Fusion;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Runs a <see cref="FusedProgram"/> on the CPU in one pass over memory: the inputs (layouts broadcast to the
/// outputs' shape) and the dense outputs are collapsed into one loop nest, and each row runs the program with
/// the design it names: the generic struct composition (one specialised loop) or the chunked interpreter.
/// Programs are compiled on first use and kept with the program.
/// </summary>
public static unsafe class CpuFusedElementwise
{
    /// <summary>Below this many elements per thread, work runs on the calling thread (as in CpuElementwise).</summary>
    private const long Grain = 1 << 15;

    private static readonly ConditionalWeakTable<FusedProgram, object> Compiled = new();

    /// <summary>
    /// Runs <paramref name="program"/>: <paramref name="inputs"/> are broadcast to the outputs' shape (stride 0
    /// on broadcast dimensions), <paramref name="outputs"/> are dense and of that shape, none overlapping an
    /// input.
    /// </summary>
    public static void Run(FusedProgram program, ReadOnlySpan<TensorArg> inputs, ReadOnlySpan<TensorArg> outputs)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Reduction is not null)
        {
            CpuFusedReduce.Run(program, inputs, outputs);
            return;
        }
        if (inputs.Length != program.NumInputs || outputs.Length != program.Outputs.Count)
            throw new ArgumentException(
                $"fused_elementwise: the program takes {program.NumInputs} inputs and gives " +
                $"{program.Outputs.Count} outputs, but got {inputs.Length} and {outputs.Length}.");
        var shape = outputs[0].Shape;
        foreach (var y in outputs)
        {
            if (y.Shape != shape || !y.IsContiguous || y.DType != program.DType)
                throw new ArgumentException(
                    $"fused_elementwise: outputs must be dense {program.DType.Name()}{shape}, got {y}.");
        }
        foreach (var x in inputs)
        {
            if (x.Shape != shape || x.DType != program.DType)
                throw new ArgumentException(
                    $"fused_elementwise: inputs must be broadcast to {program.DType.Name()}{shape}, got {x}.");
        }
        switch (program.DType)
        {
            case DType.Float32: RunCore<float>(program, inputs, outputs); break;
            case DType.Float64: RunCore<double>(program, inputs, outputs); break;
            case DType.Int32: RunCore<int>(program, inputs, outputs); break;
            case DType.Int64: RunCore<long>(program, inputs, outputs); break;
            default:
                throw new NotSupportedException($"fused_elementwise: dtype {program.DType.Name()} is not supported.");
        }
    }

    private static void RunCore<T>(FusedProgram program, ReadOnlySpan<TensorArg> inputs,
        ReadOnlySpan<TensorArg> outputs) where T : unmanaged
    {
        var shape = outputs[0].Shape;
        if (shape.Size == 0) return;
        var (runner, vectorForms) = Runner<T>(program);
        int n = inputs.Length;
        var strides = new long[n + 1][];
        var bases = new IntPtr[n];
        for (int k = 0; k < n; k++)
        {
            var x = inputs[k];
            x.Layout.CheckFits(x.Buffer<T>().Length, "fused_elementwise");
            strides[k] = x.Layout.Strides;
            bases[k] = (IntPtr)((T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(x.Buffer<T>())) + x.Offset);
        }
        strides[n] = shape.ContiguousStrides();
        var outs = new IntPtr[outputs.Length];
        for (int o = 0; o < outputs.Length; o++)
            outs[o] = (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(outputs[o].Elements<T>()));
        var nest = LoopNest.Create(shape, strides);
        bool vector = vectorForms && CpuInstructionSet.Vector512LoopsPay;
        for (int k = 0; k < n && vector; k++) vector = nest.Strides[k][^1] is 0 or 1;
        long rows = nest.OuterSize, cols = nest.InnerSize;
        if (rows * cols < 2 * Grain) RunRows(runner, nest, bases, outs, vector, 0, rows, 0, cols);
        else if (rows == 1)
        {
            // Chunks aligned to 64 elements keep every chunk's vector loads whole.
            long blocks = (cols + 63) / 64;
            CpuParallel.For(blocks, Grain / 64,
                (s, e) => RunRows(runner, nest, bases, outs, vector, 0, 1, s * 64, Math.Min(cols, e * 64)));
        }
        else
            CpuParallel.For(rows, Math.Max(1, Grain / cols),
                (s, e) => RunRows(runner, nest, bases, outs, vector, s, e, 0, cols));
    }

    private static void RunRows<T>(CpuFusedRunner<T> runner, LoopNest nest, IntPtr[] bases, IntPtr[] outs,
        bool vector, long rowStart, long rowEnd, long colStart, long colEnd) where T : unmanaged
    {
        int n = bases.Length;
        var context = new CpuFusedContext<T>();
        T** y = stackalloc T*[outs.Length];
        context.Y = y;
        // One vector of copies per broadcast input, for the vector loads of the generic design.
        T* splat = stackalloc T[n * Vector512<T>.Count + 1];
        for (long r = rowStart; r < rowEnd; r++)
        {
            for (int k = 0; k < n; k++)
            {
                long s = nest.Strides[k][^1];
                T* p = (T*)bases[k] + nest.RowOffset(k, r) + colStart * s;
                if (s == 0)
                {
                    T* v = splat + k * Vector512<T>.Count;
                    new Span<T>(v, Vector512<T>.Count).Fill(*p);
                    p = v;
                }
                context.Set(k, p, s, s == 0 ? 0 : -1);
            }
            long outOffset = nest.RowOffset(n, r) + colStart;
            for (int o = 0; o < outs.Length; o++) y[o] = (T*)outs[o] + outOffset;
            runner.RunRow(ref context, colEnd - colStart, vector);
        }
    }

    /// <summary>
    /// The compiled runner of the program's elementwise part (<see cref="FusedProgram.Elementwise"/>), and whether
    /// every operator has a vector form.
    /// </summary>
    internal static (CpuFusedRunner<T> Runner, bool VectorForms) Runner<T>(FusedProgram program) where T : unmanaged =>
        ((CpuFusedRunner<T>, bool))Compiled.GetValue(program, p => Compile<T>(p));

    private static (CpuFusedRunner<T>, bool) Compile<T>(FusedProgram program) where T : unmanaged
    {
        program = program.Elementwise;
        bool vectorForms = program.Instructions.All(i => i.Operator switch
        {
            IUnaryOperator<T> u => u.Vectorized,
            IBinaryOperator<T> b => b.Vectorized,
            _ => true,
        });
        var store = program.Design == FusionDesign.GenericStruct ? FusedExpressionBuilder.TryBuildStore(program) : null;
        if (store is null) return (new CpuFusedInterpreter<T>(program), vectorForms);
        var type = typeof(CpuFusedGenericRunner<,>).MakeGenericType(store.GetType(), typeof(T));
        return ((CpuFusedRunner<T>)Activator.CreateInstance(type, store)!, vectorForms);
    }
}
