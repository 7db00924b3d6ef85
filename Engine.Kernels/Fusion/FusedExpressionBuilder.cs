namespace Engine.Kernels.Fusion;

/// <summary>
/// Composes a <see cref="FusedProgram"/> into nested generic struct types (<see cref="IFusedExpression{T}"/>) with
/// MakeGenericType, and builds the instance that carries the operators' fields. A register read twice is
/// composed twice (its expression is recomputed, which is cheap next to a pass over memory); a program whose tree
/// would grow past <see cref="MaxNodes"/> is left to the interpreter.
/// </summary>
public static class FusedExpressionBuilder
{
    /// <summary>Largest expression tree composed; past it, shared sub-expressions cost more than they save.</summary>
    public const int MaxNodes = 64;

    private static readonly Type[] Leaves =
    [
        typeof(In0<>), typeof(In1<>), typeof(In2<>), typeof(In3<>), typeof(In4<>), typeof(In5<>), typeof(In6<>),
        typeof(In7<>),
    ];

    /// <summary>
    /// The store chain (an <see cref="IFusedStore{T}"/>) that computes every output of the program's elementwise
    /// part (<see cref="FusedProgram.Elementwise"/>), boxed; null when the program is too large to compose.
    /// </summary>
    public static object? TryBuildStore(FusedProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        program = program.Elementwise;
        var t = FusedProgram.ElementType(program.DType);
        int nodes = 0;
        var sizes = new int[program.NumRegisters];
        for (int r = 0; r < program.NumRegisters; r++)
        {
            sizes[r] = r < program.NumInputs ? 1
                : 1 + program.Instructions[r - program.NumInputs].Operands.Sum(o => sizes[o]);
        }
        foreach (int o in program.Outputs) nodes += sizes[o];
        if (nodes > MaxNodes) return null;

        object store = Activator.CreateInstance(typeof(StoreEnd<>).MakeGenericType(t))!;
        for (int k = program.Outputs.Count - 1; k >= 0; k--)
        {
            object expression = Build(program, program.Outputs[k], t);
            var type = typeof(StoreNode<,,>).MakeGenericType(expression.GetType(), store.GetType(), t);
            store = Activator.CreateInstance(type, k, expression, store)!;
        }
        return store;
    }

    /// <summary>The expression (an <see cref="IFusedExpression{T}"/>) of one register, boxed.</summary>
    public static object BuildExpression(FusedProgram program, int register)
    {
        ArgumentNullException.ThrowIfNull(program);
        return Build(program, register, FusedProgram.ElementType(program.DType));
    }

    private static object Build(FusedProgram program, int register, Type t)
    {
        if (register < program.NumInputs) return Activator.CreateInstance(Leaves[register].MakeGenericType(t))!;
        var ins = program.Instructions[register - program.NumInputs];
        if (ins.IsConstant) return Activator.CreateInstance(typeof(ConstNode<>).MakeGenericType(t), ins.Operator)!;
        var operands = ins.Operands.Select(o => Build(program, o, t)).ToArray();
        var generic = operands.Length switch
        {
            1 => typeof(UnaryNode<,,>),
            2 => typeof(BinaryNode<,,,>),
            _ => typeof(TernaryNode<,,,,>),
        };
        var arguments = new[] { ins.Operator.GetType() }.Concat(operands.Select(o => o.GetType())).Append(t).ToArray();
        var type = generic.MakeGenericType(arguments);
        return Activator.CreateInstance(type, new[] { ins.Operator }.Concat(operands).ToArray())!;
    }
}
