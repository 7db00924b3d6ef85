using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Engine.Kernels.Fusion;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The chunked-interpreter design: a row is cut into chunks of <see cref="ChunkBytes"/>; for each chunk every
/// instruction runs its operator's SIMD loop over registers that stay in L1 (inputs are read in place, broadcast
/// inputs are expanded once per row, output registers are written straight to the outputs). One virtual call per
/// instruction per chunk replaces the generic design's compile-time composition.
/// </summary>
internal sealed unsafe class CpuFusedInterpreter<T> : CpuFusedRunner<T> where T : unmanaged
{
    /// <summary>
    /// Bytes per register chunk: 2 KiB (512 floats) keeps a dozen registers plus the inputs' lines within a 48 KiB
    /// L1 while each SIMD loop still runs 32 vector iterations per call.
    /// </summary>
    public const int ChunkBytes = 2048;

    private static readonly int Chunk = ChunkBytes / sizeof(T);

    [ThreadStatic] private static T* scratch;
    [ThreadStatic] private static long scratchElements;

    private readonly FusedProgram program;
    private readonly ChunkStep[] steps;
    private readonly int[] outputOf;

    public CpuFusedInterpreter(FusedProgram program)
    {
        this.program = program;
        steps = program.Instructions.Select((ins, k) => ChunkStep.Create(ins, program.NumInputs + k)).ToArray();
        outputOf = Enumerable.Repeat(-1, program.NumRegisters).ToArray();
        for (int o = 0; o < program.Outputs.Count; o++) outputOf[program.Outputs[o]] = o;
    }

    // Fully optimised at once, as the generic design's row loop (CpuFusedGenericRunner.RunRow says why).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public override void RunRow(ref CpuFusedContext<T> context, long n, bool vector)
    {
        int registers = program.NumRegisters, inputs = program.NumInputs;
        T* area = Scratch((long)registers * Chunk);
        T** regs = stackalloc T*[registers];
        long* strides = stackalloc long[Math.Max(1, inputs)];
        T** bases = stackalloc T*[Math.Max(1, inputs)];
        for (int k = 0; k < inputs; k++)
        {
            var (pointer, stride) = context.Input(k);
            bases[k] = (T*)pointer;
            strides[k] = stride;
            if (stride != 0) continue;
            // A broadcast input: its chunk is the same for the whole row.
            T* region = area + (long)k * Chunk;
            new Span<T>(region, Chunk).Fill(*(T*)pointer);
            regs[k] = region;
        }
        for (long c0 = 0; c0 < n; c0 += Chunk)
        {
            int len = (int)Math.Min(Chunk, n - c0);
            for (int k = 0; k < inputs; k++)
            {
                long s = strides[k];
                if (s == 1) regs[k] = bases[k] + c0;
                else if (s != 0)
                {
                    T* region = area + (long)k * Chunk;
                    T* src = bases[k] + c0 * s;
                    for (int j = 0; j < len; j++) region[j] = src[j * s];
                    regs[k] = region;
                }
            }
            for (int j = 0; j < steps.Length; j++)
            {
                int r = inputs + j;
                regs[r] = outputOf[r] >= 0 ? context.Y[outputOf[r]] + c0 : area + (long)r * Chunk;
                steps[j].Run(regs, len);
            }
        }
    }

    private static T* Scratch(long elements)
    {
        if (scratchElements >= elements) return scratch;
        if (scratch != null) NativeMemory.AlignedFree(scratch);
        scratch = (T*)NativeMemory.AlignedAlloc((nuint)(elements * sizeof(T)), 64);
        scratchElements = elements;
        return scratch;
    }

    /// <summary>One instruction over a chunk: the operator's SIMD loop from its operand registers to its own.</summary>
    private abstract class ChunkStep
    {
        public abstract void Run(T** regs, int n);

        public static ChunkStep Create(FusedInstruction ins, int destination)
        {
            var o = ins.Operands;
            if (o.Count == 0)
                return new ConstantStep((ConstantOperator<T>)ins.Operator, destination);
            var type = o.Count switch
            {
                1 => typeof(UnaryStep<>).MakeGenericType(typeof(T), ins.Operator.GetType()),
                2 => typeof(BinaryStep<>).MakeGenericType(typeof(T), ins.Operator.GetType()),
                _ => typeof(TernaryStep<>).MakeGenericType(typeof(T), ins.Operator.GetType()),
            };
            return (ChunkStep)Activator.CreateInstance(type, ins.Operator, ins.OperandArray, destination)!;
        }
    }

    /// <summary>An immediate constant: its register is filled for each chunk (it is never an output).</summary>
    private sealed class ConstantStep(ConstantOperator<T> constant, int destination) : ChunkStep
    {
        private readonly T value = constant.Value;
        private readonly int y = destination;

        public override void Run(T** regs, int n) => new Span<T>(regs[y], n).Fill(value);
    }

    private sealed class UnaryStep<TOp>(TOp op, int[] operands, int destination) : ChunkStep
        where TOp : struct, IUnaryOperator<T>
    {
        private readonly TOp op = op;
        private readonly int a = operands[0], y = destination;
        private readonly bool vector =
            CpuInstructionSet.Vector512LoopsPay && ((IUnaryOperator<T>)default(TOp)).Vectorized;

        public override void Run(T** regs, int n)
        {
            T* x = regs[a], o = regs[y];
            int i = 0, w = Vector512<T>.Count;
            if (vector)
            {
                for (; i <= n - w; i += w) Vector512.Store(op.Invoke(Vector512.Load(x + i)), o + i);
            }
            for (; i < n; i++) o[i] = op.Invoke(x[i]);
        }
    }

    private sealed class BinaryStep<TOp>(TOp op, int[] operands, int destination) : ChunkStep
        where TOp : struct, IBinaryOperator<T>
    {
        private readonly TOp op = op;
        private readonly int a = operands[0], b = operands[1], y = destination;
        private readonly bool vector =
            CpuInstructionSet.Vector512LoopsPay && ((IBinaryOperator<T>)default(TOp)).Vectorized;

        public override void Run(T** regs, int n)
        {
            T* x = regs[a], z = regs[b], o = regs[y];
            int i = 0, w = Vector512<T>.Count;
            if (vector)
            {
                for (; i <= n - w; i += w)
                    Vector512.Store(op.Invoke(Vector512.Load(x + i), Vector512.Load(z + i)), o + i);
            }
            for (; i < n; i++) o[i] = op.Invoke(x[i], z[i]);
        }
    }

    private sealed class TernaryStep<TOp>(TOp op, int[] operands, int destination) : ChunkStep
        where TOp : struct, ITernaryOperator<T>
    {
        private readonly TOp op = op;
        private readonly int a = operands[0], b = operands[1], c = operands[2], y = destination;
        private readonly bool vector = CpuInstructionSet.Vector512LoopsPay;

        public override void Run(T** regs, int n)
        {
            T* x = regs[a], z = regs[b], u = regs[c], o = regs[y];
            int i = 0, w = Vector512<T>.Count;
            if (vector)
            {
                for (; i <= n - w; i += w)
                {
                    var r = op.Invoke(Vector512.Load(x + i), Vector512.Load(z + i), Vector512.Load(u + i));
                    Vector512.Store(r, o + i);
                }
            }
            for (; i < n; i++) o[i] = op.Invoke(x[i], z[i], u[i]);
        }
    }
}
