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
/// NumInputs + k is the result of instruction k; <see cref="Outputs"/> names the registers written out. The program
/// is backend-neutral: instructions hold the same struct operators (<c>AddOperator&lt;float&gt;</c>) that every
/// backend's elementwise driver runs, so the CPU executes it in one pass over memory and a GPU backend can
/// specialise it into one kernel.
/// </summary>
public sealed class FusedProgram
{
    /// <summary>Most inputs a program takes (the generic design names them In0 .. In7).</summary>
    public const int MaxInputs = 8;

    public FusedProgram(DType dtype, int inputs, IReadOnlyList<FusedInstruction> instructions,
        IReadOnlyList<int> outputs, FusionDesign design = FusionDesign.GenericStruct)
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
                1 => typeof(IUnaryOperator<>), 2 => typeof(IBinaryOperator<>), 3 => typeof(ITernaryOperator<>),
                _ => throw new ArgumentException(
                    $"fused program: instruction {k} ({ins.Name}) has {ins.Operands.Count} operands; 1 to 3 allowed.",
                    nameof(instructions)),
            };
            var iface = expected.MakeGenericType(element);
            if (!ins.Operator.GetType().IsValueType || !iface.IsInstanceOfType(ins.Operator))
                throw new ArgumentException(
                    $"fused program: instruction {k} ({ins.Name}) has operator {ins.Operator.GetType().Name}, which " +
                    $"is not a struct {iface.Name} for {dtype.Name()}.", nameof(instructions));
        }
        if (outputs.Count == 0)
            throw new ArgumentException("fused program: needs at least one output.", nameof(outputs));
        foreach (int r in outputs)
        {
            if (r < inputs || r >= inputs + instructions.Count)
                throw new ArgumentException(
                    $"fused program: output register {r} is not the result of an instruction ({inputs} .. " +
                    $"{inputs + instructions.Count - 1}).", nameof(outputs));
        }
        if (outputs.Distinct().Count() != outputs.Count)
            throw new ArgumentException("fused program: an output register is listed twice.", nameof(outputs));
        DType = dtype;
        NumInputs = inputs;
        Instructions = instructions.ToArray();
        Outputs = outputs.ToArray();
        Design = design;
    }

    public DType DType { get; }

    public int NumInputs { get; }

    public IReadOnlyList<FusedInstruction> Instructions { get; }

    /// <summary>The registers written to the outputs, in output order.</summary>
    public IReadOnlyList<int> Outputs { get; }

    /// <summary>How the CPU runs it.</summary>
    public FusionDesign Design { get; }

    public int NumRegisters => NumInputs + Instructions.Count;

    /// <summary>The same program run with another design.</summary>
    public FusedProgram WithDesign(FusionDesign design) => new(DType, NumInputs, Instructions, Outputs, design);

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
            sb.Append($"%{NumInputs + k} = {ins.Name}(")
                .AppendJoin(", ", ins.Operands.Select(r => "%" + r)).Append(')');
        }
        sb.Append(" } -> ").AppendJoin(", ", Outputs.Select(r => "%" + r));
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

    public override string ToString() => $"{Name}({string.Join(", ", Operands.Select(r => "%" + r))})";
}
