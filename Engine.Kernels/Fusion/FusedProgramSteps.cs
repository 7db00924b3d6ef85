using System.Reflection;
using System.Runtime.CompilerServices;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Fusion;

/// <summary>
/// Runs a <see cref="FusedProgram"/> one instruction at a time on any backend's <see cref="IElementwiseDriver"/>,
/// intermediate registers in scratch memory: correct everywhere, but one pass over memory per instruction. The
/// GPU backend runs fused programs this way until it has a kernel specialised over the generic expression types.
/// </summary>
public static class FusedProgramSteps
{
    private delegate void Step(IElementwiseDriver driver, KernelContext context, object op, TensorArg[] args);

    private static readonly ConditionalWeakTable<FusedProgram, Step[]> Compiled = new();

    /// <summary>Scratch bytes <see cref="Run"/> takes: one dense register per instruction that is no output.</summary>
    public static long ScratchBytes(FusedProgram program, Shape shape) =>
        (program.Instructions.Count - program.Outputs.Count) * shape.Size * program.DType.SizeInBytes();

    /// <summary>Inputs broadcast to the outputs' shape; outputs dense.</summary>
    public static void Run(FusedProgram program, IElementwiseDriver driver, KernelContext context,
        TensorArg[] inputs, TensorArg[] outputs)
    {
        ArgumentNullException.ThrowIfNull(program);
        var steps = Compiled.GetValue(program, Compile);
        var shape = outputs[0].Shape;
        var registers = new TensorArg[program.NumRegisters];
        inputs.CopyTo(registers, 0);
        for (int k = 0; k < program.Instructions.Count; k++)
        {
            int r = program.NumInputs + k;
            int o = Array.IndexOf((int[])program.Outputs, r);
            registers[r] = o >= 0 ? outputs[o] : new TensorArg(
                context.Scratch(shape.Size * program.DType.SizeInBytes()), TensorLayout.Contiguous(shape),
                program.DType);
            var ins = program.Instructions[k];
            // A constant is its operator applied in place to its own register (it ignores the value it reads).
            var args = ins.IsConstant ? [registers[r], registers[r]]
                : ins.Operands.Select(x => registers[x]).Append(registers[r]).ToArray();
            steps[k](driver, context, ins.Operator, args);
        }
    }

    private static Step[] Compile(FusedProgram program)
    {
        var t = FusedProgram.ElementType(program.DType);
        return program.Instructions.Select(ins =>
        {
            string name = ins.Operands.Count switch
            {
                0 or 1 => nameof(Unary), 2 => nameof(Binary), _ => nameof(Ternary),
            };
            var method = typeof(FusedProgramSteps).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(ins.Operator.GetType(), t);
            return method.CreateDelegate<Step>();
        }).ToArray();
    }

    private static void Unary<TOp, T>(IElementwiseDriver d, KernelContext c, object op, TensorArg[] a)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged => d.Unary<TOp, T>(c, (TOp)op, a[0], a[1]);

    private static void Binary<TOp, T>(IElementwiseDriver d, KernelContext c, object op, TensorArg[] a)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged => d.Binary<TOp, T>(c, (TOp)op, a[0], a[1], a[2]);

    private static void Ternary<TOp, T>(IElementwiseDriver d, KernelContext c, object op, TensorArg[] a)
        where TOp : struct, ITernaryOperator<T> where T : unmanaged =>
        d.Ternary<TOp, T>(c, (TOp)op, a[0], a[1], a[2], a[3]);
}
