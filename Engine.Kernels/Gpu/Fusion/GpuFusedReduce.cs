using System.Reflection;
using System.Runtime.CompilerServices;
using Engine.Kernels.Cpu;
using Engine.Kernels.Fusion;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Runs a <see cref="FusedProgram"/> that ends with a reduction on the GPU: the reduction kernels of
/// <see cref="GpuReduce"/> read each element through <see cref="GpuFusedSource{TE, TStore, T}"/>, which evaluates
/// the reduced register's expression at that position (and writes the registers the program materialises), so
/// the group is one launch (two for a split full reduction) and the reduced register is never stored. Kernels,
/// groups and fold order are those of the unfused reduction, so results match it whenever the elementwise values
/// do. Programs the one-kernel path cannot take run step by step into scratch memory and are then reduced.
/// </summary>
public static class GpuFusedReduce
{
    private delegate void Launch(KernelContext context, FusedProgram program, object expression, object store,
        TensorArg[] inputs, TensorArg[] outputs);

    private static readonly ConditionalWeakTable<FusedProgram, Tuple<object, object, Launch>?> Compiled = new();

    /// <summary>Inputs broadcast to the elementwise shape; outputs dense: the result, then the materialised.</summary>
    public static void Run(FusedProgram program, KernelContext context, TensorArg[] inputs, TensorArg[] outputs)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(context);
        var reduction = program.Reduction ?? throw new ArgumentException(
            "fused reduce: the program has no reduction; run it with GpuFusedElementwise.", nameof(program));
        if (inputs.Length != program.NumInputs || outputs.Length != program.NumOutputs || inputs.Length == 0)
            throw new ArgumentException(
                $"fused reduce: the program takes {program.NumInputs} inputs (at least one) and gives " +
                $"{program.NumOutputs} outputs, but got {inputs.Length} and {outputs.Length}.");
        var compiled = Compiled.GetValue(program, Compile);
        if (compiled is not null)
        {
            compiled.Item3(context, program, compiled.Item1, compiled.Item2, inputs, outputs);
            return;
        }
        // Step by step: the elementwise part into the outputs and scratch, then the reduction of its register.
        var shape = inputs[0].Shape;
        var part = program.Elementwise;
        var partOutputs = part.Outputs.Select(r =>
        {
            int o = program.Outputs.ToList().IndexOf(r);
            return o >= 0 ? outputs[1 + o] : new TensorArg(context.Scratch(shape.Size * program.DType.SizeInBytes()),
                TensorLayout.Contiguous(shape), program.DType);
        }).ToArray();
        FusedProgramSteps.Run(part, GpuElementwiseDriver.Instance, context, inputs, partOutputs);
        GpuReduce.Reduce(GpuElementwiseDriver.Runtime(context), reduction.Op, partOutputs[program.ReducedOutput],
            reduction.Axes.ToArray(), outputs[0]);
    }

    private static Tuple<object, object, Launch>? Compile(FusedProgram program)
    {
        bool power = program.Instructions.Any(i => i.Operator.GetType().IsGenericType &&
            i.Operator.GetType().GetGenericTypeDefinition() == typeof(PowerOperator<>));
        if (power || program.Outputs.Count > GpuFusedContext<float>.MaxOutputs) return null;
        var t = FusedProgram.ElementType(program.DType);
        object? store = program.Outputs.Count == 0 ? Activator.CreateInstance(typeof(StoreEnd<>).MakeGenericType(t))
            : FusedExpressionBuilder.TryBuildStore(
                new FusedProgram(program.DType, program.NumInputs, program.Instructions, program.Outputs));
        if (store is null) return null;
        var reduction = program.Reduction!;
        var probe = FusedExpressionBuilder.TryBuildStore(
            new FusedProgram(program.DType, program.NumInputs, program.Instructions, [reduction.Register]));
        if (probe is null) return null;
        var expression = FusedExpressionBuilder.BuildExpression(program, reduction.Register);
        bool mean = reduction.Op == ReduceOp.Mean;
        var (accumulator, reducer) = program.DType switch
        {
            DType.Float32 => (typeof(double), mean ? typeof(FloatMeanReducer) : typeof(FloatSumReducer)),
            DType.Float64 => (typeof(double), mean ? typeof(MeanReducer) : typeof(SumReducer<double>)),
            DType.Int32 => (typeof(int), typeof(SumReducer<int>)),
            _ => (typeof(long), typeof(SumReducer<long>)),
        };
        var method = typeof(GpuFusedReduce).GetMethod(nameof(LaunchCore), BindingFlags.NonPublic |
            BindingFlags.Static)!.MakeGenericMethod(expression.GetType(), store.GetType(), t, accumulator, reducer);
        return new(expression, store, method.CreateDelegate<Launch>());
    }

    private static void LaunchCore<TE, TStore, T, A, TR>(KernelContext context, FusedProgram program,
        object expression, object store, TensorArg[] inputs, TensorArg[] outputs)
        where TE : struct, IFusedExpression<T> where TStore : struct, IFusedStore<T> where T : unmanaged
        where A : unmanaged where TR : struct, IGpuReducer<T, A>
    {
        var rt = GpuElementwiseDriver.Runtime(context);
        string name = context.Op;
        var shape = inputs[0].Shape;
        var reduction = program.Reduction!;
        var plan = GpuReduce.DensePlan(name, shape, program.DType, reduction.Axes.ToArray(), outputs[0]);
        if (plan.Outputs == 0) return;
        var strides = inputs.Select(x => x.Layout.Strides).Append(shape.ContiguousStrides()).ToArray();
        var nest = LoopNest.Create(shape, strides);
        var operands = new GpuFusedContext<T>();
        for (int k = 0; k < inputs.Length; k++)
            operands.SetInput(k, inputs[k].Buffer<T>(rt, name),
                StridedIndex.Create(nest.Dims, nest.Strides[k], inputs[k].Offset));
        for (int o = 1; o < outputs.Length; o++) operands.SetOutput(o - 1, outputs[o].Elements<T>(rt, name));
        var source = new GpuFusedSource<TE, TStore, T>(operands, (TE)expression, (TStore)store);
        GpuReduce.Run<T, A, TR, GpuFusedSource<TE, TStore, T>>(rt, plan, source, outputs[0], default);
    }
}

/// <summary>
/// A reduced register computed where the reduction reads it: the expression at dense position <c>i</c> of the
/// elementwise shape, with the program's materialised registers stored at the same position (each position is
/// read exactly once).
/// </summary>
public readonly struct GpuFusedSource<TE, TStore, T>(GpuFusedContext<T> context, TE expression, TStore store)
    : IGpuReduceSource<T>
    where TE : struct, IFusedExpression<T> where TStore : struct, IFusedStore<T> where T : unmanaged
{
    private readonly GpuFusedContext<T> context = context;
    private readonly TE expression = expression;
    private readonly TStore store = store;

    public T Read(int index)
    {
        var c = context;
        store.Store(ref c, index);
        return expression.Invoke(ref c, index);
    }
}
