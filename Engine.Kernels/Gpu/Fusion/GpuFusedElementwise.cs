using System.Reflection;
using System.Runtime.CompilerServices;
using Engine.Kernels.Cpu;
using Engine.Kernels.Fusion;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Runs a <see cref="FusedProgram"/> on the GPU as one kernel: the program's generic struct composition
/// (<see cref="FusedExpressionBuilder"/>) is the kernel's type argument, so ILGPU specialises the whole group into
/// one grid-stride loop, one pass over memory. Programs it cannot take (more than
/// <see cref="GpuFusedContext{T}.MaxOutputs"/> outputs, trees too large to compose, power, whose CPU operator
/// tests types) run instruction by instruction through <see cref="FusedProgramSteps"/>.
/// </summary>
public static class GpuFusedElementwise
{
    private delegate void Launch(KernelContext context, FusedProgram program, object store, TensorArg[] inputs,
        TensorArg[] outputs);

    private static readonly ConditionalWeakTable<FusedProgram, Tuple<object?, Launch?>> Compiled = new();

    /// <summary>Inputs broadcast to the outputs' shape; outputs dense.</summary>
    public static void Run(FusedProgram program, KernelContext context, TensorArg[] inputs, TensorArg[] outputs)
    {
        ArgumentNullException.ThrowIfNull(program);
        var (store, launch) = Compiled.GetValue(program, Compile);
        if (store is null || launch is null)
        {
            FusedProgramSteps.Run(program, GpuElementwiseDriver.Instance, context, inputs, outputs);
            return;
        }
        launch(context, program, store, inputs, outputs);
    }

    private static Tuple<object?, Launch?> Compile(FusedProgram program)
    {
        bool power = program.Instructions.Any(i => i.Operator.GetType().IsGenericType &&
            i.Operator.GetType().GetGenericTypeDefinition() == typeof(PowerOperator<>));
        if (power || program.Outputs.Count > GpuFusedContext<float>.MaxOutputs) return new(null, null);
        var store = FusedExpressionBuilder.TryBuildStore(program);
        if (store is null) return new(null, null);
        var method = typeof(GpuFusedElementwise).GetMethod(nameof(LaunchCore), BindingFlags.NonPublic |
            BindingFlags.Static)!.MakeGenericMethod(store.GetType(), FusedProgram.ElementType(program.DType));
        return new(store, method.CreateDelegate<Launch>());
    }

    private static void LaunchCore<TStore, T>(KernelContext context, FusedProgram program, object store,
        TensorArg[] inputs, TensorArg[] outputs)
        where TStore : struct, IFusedStore<T> where T : unmanaged
    {
        var rt = GpuElementwiseDriver.Runtime(context);
        string name = context.Op;
        var shape = outputs[0].Shape;
        int n = checked((int)shape.Size);
        if (n == 0) return;
        var strides = inputs.Select(x => x.Layout.Strides).Append(shape.ContiguousStrides()).ToArray();
        var nest = LoopNest.Create(shape, strides);
        var operands = new GpuFusedContext<T>();
        for (int k = 0; k < inputs.Length; k++)
            operands.SetInput(k, inputs[k].Buffer<T>(rt, name),
                StridedIndex.Create(nest.Dims, nest.Strides[k], inputs[k].Offset));
        for (int o = 0; o < outputs.Length; o++) operands.SetOutput(o, outputs[o].Elements<T>(rt, name));
        rt.Kernels.Load<GpuFusedContext<T>, TStore, int>(Kernel<TStore, T>)(rt.Stream, rt.GridStride(n), operands,
            (TStore)store, n);
    }

    private static void Kernel<TStore, T>(GpuFusedContext<T> operands, TStore store, int n)
        where TStore : struct, IFusedStore<T> where T : unmanaged
    {
        var c = operands;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) store.Store(ref c, i);
    }
}
