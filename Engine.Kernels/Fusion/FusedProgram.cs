using System.Text;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Fusion;

/// <summary>How the CPU executes a fused-elementwise program (docs/graph-compiler.md compares them).</summary>
public enum FusionDesign
{
    /// <summary>
    /// The program composed as nested generic struct operators (<c>BinaryNode&lt;Add, UnaryNode&lt;Exp, In0&gt;,
    /// In1&gt;</c>) built with MakeGenericType: the JIT specialises the whole group into one straight-line loop.
    /// </summary>
    GenericStruct,

    /// <summary>
    /// A chunked interpreter: each chunk of elements stays in L1 while the instructions run over it one after the
    /// other with the elementwise SIMD loops.
    /// </summary>
    ChunkedInterpreter,
}

/// <summary>
/// A fused-elementwise program: a group of elementwise and broadcast operators of one dtype as a list of
/// instructions over registers. Registers 0 .. NumInputs - 1 are the inputs (broadcast to one shape), register
/// NumInputs + k is the result of instruction k (an instruction without operands is an immediate constant);
/// <see cref="Outputs"/> names the registers written out. A program may end with a <see cref="Reduction"/> of one
/// register, whose result is then its first output. The program
/// is backend-neutral: instructions hold the same struct operators (<c>AddOperator&lt;float&gt;</c>) that every
/// backend's elementwise driver runs, so the CPU executes it in one pass over memory and a GPU backend can
/// specialise it into one kernel.
/// </summary>
public sealed class FusedProgram
{
    /// <summary>Most inputs a program takes (the generic design names them In0 .. In7).</summary>
    public const int MaxInputs = 8;

    public FusedProgram(DType dtype, int inputs, IReadOnlyList<FusedInstruction> instructions,
        IReadOnlyList<int> outputs, FusionDesign design = FusionDesign.GenericStruct,
        FusedReduction? reduction = null)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        ArgumentNullException.ThrowIfNull(outputs);
        var element = ElementType(dtype);
        if (inputs < 0 || inputs > MaxInputs)
            throw new ArgumentOutOfRangeException(nameof(inputs), inputs,
                $"fused program: takes 0 to {MaxInputs} inputs; split the group.");
        if (instructions.Count == 0)
            throw new ArgumentException("fused program: needs at least one instruction.", nameof(instructions));
        for (int k = 0; k < instructions.Count; k++)
        {
            var ins = instructions[k];
            foreach (int r in ins.Operands)
            {
                if (r < 0 || r >= inputs + k)
                    throw new ArgumentException(
                        $"fused program: instruction {k} ({ins.Name}) reads register {r}, but only registers 0 .. " +
                        $"{inputs + k - 1} exist before it.", nameof(instructions));
            }
            var expected = ins.Operands.Count switch
            {
                0 => typeof(ConstantOperator<>),
                1 => typeof(IUnaryOperator<>), 2 => typeof(IBinaryOperator<>), 3 => typeof(ITernaryOperator<>),
                _ => throw new ArgumentException(
                    $"fused program: instruction {k} ({ins.Name}) has {ins.Operands.Count} operands; 0 (a " +
                    "constant) to 3 allowed.", nameof(instructions)),
            };
            var iface = expected.MakeGenericType(element);
            if (!ins.Operator.GetType().IsValueType || !iface.IsInstanceOfType(ins.Operator))
                throw new ArgumentException(
                    $"fused program: instruction {k} ({ins.Name}) has operator {ins.Operator.GetType().Name}, which " +
                    $"is not a struct {iface.Name} for {dtype.Name()}.", nameof(instructions));
        }
        if (outputs.Count == 0 && reduction is null)
            throw new ArgumentException("fused program: needs at least one output.", nameof(outputs));
        foreach (int r in reduction is null ? outputs : outputs.Append(reduction.Register))
        {
            if (r < inputs || r >= inputs + instructions.Count || instructions[r - inputs].Operands.Count == 0)
                throw new ArgumentException(
                    $"fused program: output register {r} is not the result of an instruction that is not a " +
                    $"constant ({inputs} .. {inputs + instructions.Count - 1}).", nameof(outputs));
        }
        if (reduction is { Op: ReduceOp.Mean } && dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentException(
                $"fused program: mean needs float32 or float64, the program runs {dtype.Name()}.", nameof(reduction));
        if (outputs.Distinct().Count() != outputs.Count)
            throw new ArgumentException("fused program: an output register is listed twice.", nameof(outputs));
        DType = dtype;
        NumInputs = inputs;
        Instructions = instructions.ToArray();
        Outputs = outputs.ToArray();
        Design = design;
        Reduction = reduction;
    }

    public DType DType { get; }

    public int NumInputs { get; }

    public IReadOnlyList<FusedInstruction> Instructions { get; }

    /// <summary>
    /// The registers written to the outputs, in output order (after the reduction's result when there is one).
    /// </summary>
    public IReadOnlyList<int> Outputs { get; }

    /// <summary>How the CPU runs it.</summary>
    public FusionDesign Design { get; }

    /// <summary>The reduction that ends the program, or null: its result is output 0.</summary>
    public FusedReduction? Reduction { get; }

    public int NumRegisters => NumInputs + Instructions.Count;

    /// <summary>Outputs the program writes: the reduction's result, if any, then <see cref="Outputs"/>.</summary>
    public int NumOutputs => Outputs.Count + (Reduction is null ? 0 : 1);

    /// <summary>
    /// The elementwise part of a program that ends with a reduction: the same instructions, with the reduced
    /// register among its outputs (first, unless <see cref="Outputs"/> already lists it). Drivers compute lines of
    /// it and fold the reduced register's output; the program itself when it has no reduction.
    /// </summary>
    public FusedProgram Elementwise => elementwise ??= Reduction is not { } r ? this
        : new FusedProgram(DType, NumInputs, Instructions,
            Outputs.Contains(r.Register) ? Outputs : Outputs.Prepend(r.Register).ToArray(), Design);

    /// <summary>Which output of <see cref="Elementwise"/> holds the reduced register.</summary>
    public int ReducedOutput => Reduction is { } r ? Elementwise.Outputs.ToList().IndexOf(r.Register) : -1;

    private FusedProgram? elementwise;

    /// <summary>The same program run with another design.</summary>
    public FusedProgram WithDesign(FusionDesign design) =>
        new(DType, NumInputs, Instructions, Outputs, design, Reduction);

    /// <summary>The element type of a dtype fused programs run on (float32, float64, int32, int64).</summary>
    public static Type ElementType(DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float), DType.Float64 => typeof(double), DType.Int32 => typeof(int),
        DType.Int64 => typeof(long),
        _ => throw new NotSupportedException(
            $"fused program: dtype {dtype.Name()} is not supported; fused programs run float32, float64, int32 " +
            "and int64."),
    };

    /// <summary>One line: <c>(%0, %1, %2) { %3 = multiply(%0, %1); %4 = exp(%3) } -> %4</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append('(').AppendJoin(", ", Enumerable.Range(0, NumInputs).Select(r => "%" + r)).Append(") { ");
        for (int k = 0; k < Instructions.Count; k++)
        {
            var ins = Instructions[k];
            if (k > 0) sb.Append("; ");
            sb.Append($"%{NumInputs + k} = ").Append(ins);
        }
        sb.Append(" } -> ");
        if (Reduction is not null) sb.Append(Reduction).Append(Outputs.Count > 0 ? ", " : "");
        sb.AppendJoin(", ", Outputs.Select(r => "%" + r));
        return sb.ToString();
    }
}

/// <summary>
/// One instruction of a <see cref="FusedProgram"/>: the operator's name (for printing), its struct operator for
/// the program's dtype (boxed; attributes such as clip's bounds are its fields) and its operand registers.
/// </summary>
public sealed class FusedInstruction
{
    public FusedInstruction(string name, object op, params int[] operands)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(operands);
        Name = name;
        Operator = op;
        Operands = operands.ToArray();
    }

    public string Name { get; }

    public object Operator { get; }

    public IReadOnlyList<int> Operands { get; }

    internal int[] OperandArray => (int[])Operands;

    /// <summary>
    /// An immediate constant of <paramref name="dtype"/>, converted from <paramref name="value"/> as <c>full</c>
    /// converts it; printed as <paramref name="text"/>.
    /// </summary>
    public static FusedInstruction Constant(DType dtype, double value, string text) => new(text, dtype switch
    {
        DType.Float32 => new ConstantOperator<float>((float)value),
        DType.Float64 => new ConstantOperator<double>(value),
        DType.Int32 => new ConstantOperator<int>((int)value),
        DType.Int64 => new ConstantOperator<long>((long)value),
        _ => throw new NotSupportedException(
            $"fused program: constants of dtype {dtype.Name()} are not supported; fused programs run float32, " +
            "float64, int32 and int64."),
    });

    /// <summary>Whether this instruction is an immediate constant (no operands).</summary>
    public bool IsConstant => Operands.Count == 0;

    public override string ToString() =>
        IsConstant ? Name : $"{Name}({string.Join(", ", Operands.Select(r => "%" + r))})";
}
