using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>
/// The math of an elementwise operator, as struct operator types per dtype. Backends bind it to their elementwise
/// driver (the CPU's SIMD loops, ILGPU kernels), the fusion pass composes the operator types, and
/// <see cref="Evaluate"/> gives the scalar value the tests compare kernels with.
/// </summary>
public abstract class ElementwiseMath
{
    /// <summary>Number of inputs (1, 2 or 3).</summary>
    public abstract int Arity { get; }

    /// <summary>The dtypes the operator accepts.</summary>
    public abstract IReadOnlyList<DType> DTypes { get; }

    /// <summary>
    /// The struct operator that computes the op in <paramref name="dtype"/> (AddOperator&lt;float&gt;).
    /// </summary>
    public abstract Type OperatorType(DType dtype);

    /// <summary>
    /// The struct operator for <paramref name="dtype"/> with its fields set from the attributes (clip's bounds),
    /// boxed: what a fused program's instruction holds.
    /// </summary>
    public abstract object Operator(OpAttrs attrs, DType dtype);

    /// <summary>The op on one set of float64 arguments, through its float64 struct operator.</summary>
    public abstract double Evaluate(OpAttrs attrs, ReadOnlySpan<double> arguments);
}

/// <summary>Elementwise math whose operator values may depend on attributes (clip's bounds).</summary>
public abstract class ElementwiseMath<TAttrs> : ElementwiseMath where TAttrs : OpAttrs
{
    /// <summary>Runs the op on a backend's driver: inputs broadcast to the output's shape, output dense.</summary>
    internal abstract void Run(IElementwiseDriver driver, TAttrs attrs, KernelContext context, TensorArg[] inputs,
        TensorArg[] outputs);

    private protected static TensorArg Broadcast(in TensorArg x, Shape shape) =>
        x.Shape == shape ? x : x.WithLayout(x.Layout.BroadcastTo(shape));

    private protected static NotSupportedException Unsupported(string op, DType dtype) =>
        new($"{op}: dtype {dtype.Name()} is not supported here; use float32, float64, int32 or int64.");
}

/// <summary>Stands in for the integer operators of a float-only op; never run (the dtype list excludes it).</summary>
public readonly struct NoOperator<T> : IUnaryOperator<T>, IBinaryOperator<T>, ITernaryOperator<T> where T : unmanaged
{
    public T Invoke(T x) => throw new NotSupportedException();
    public System.Runtime.Intrinsics.Vector512<T> Invoke(System.Runtime.Intrinsics.Vector512<T> x) =>
        throw new NotSupportedException();
    public T Invoke(T x, T y) => throw new NotSupportedException();
    public System.Runtime.Intrinsics.Vector512<T> Invoke(System.Runtime.Intrinsics.Vector512<T> x,
        System.Runtime.Intrinsics.Vector512<T> y) => throw new NotSupportedException();
    public T Invoke(T x, T y, T z) => throw new NotSupportedException();
    public System.Runtime.Intrinsics.Vector512<T> Invoke(System.Runtime.Intrinsics.Vector512<T> x,
        System.Runtime.Intrinsics.Vector512<T> y, System.Runtime.Intrinsics.Vector512<T> z) =>
        throw new NotSupportedException();
}

/// <summary>A unary op: one struct operator per dtype, made from the attributes.</summary>
public sealed class UnaryMath<TAttrs, TF, TD, TI, TL>(Func<TAttrs, (TF, TD, TI, TL)> make, params DType[] dtypes)
    : ElementwiseMath<TAttrs>
    where TAttrs : OpAttrs
    where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double>
    where TI : struct, IUnaryOperator<int> where TL : struct, IUnaryOperator<long>
{
    public override int Arity => 1;

    public override IReadOnlyList<DType> DTypes => dtypes;

    public override Type OperatorType(DType dtype) => dtype switch
    {
        DType.Float32 => typeof(TF), DType.Float64 => typeof(TD), DType.Int32 => typeof(TI),
        DType.Int64 => typeof(TL), _ => throw Unsupported("elementwise", dtype),
    };

    public override double Evaluate(OpAttrs attrs, ReadOnlySpan<double> x) => make((TAttrs)attrs).Item2.Invoke(x[0]);

    public override object Operator(OpAttrs attrs, DType dtype)
    {
        var (f, d, n, l) = make((TAttrs)attrs);
        return dtype switch
        {
            DType.Float32 => f, DType.Float64 => d, DType.Int32 when dtypes.Contains(dtype) => n,
            DType.Int64 when dtypes.Contains(dtype) => l, _ => throw Unsupported("elementwise", dtype),
        };
    }

    internal override void Run(IElementwiseDriver d, TAttrs attrs, KernelContext c, TensorArg[] i, TensorArg[] o)
    {
        var (f, db, n, l) = make(attrs);
        switch (i[0].DType)
        {
            case DType.Float32: d.Unary<TF, float>(c, f, i[0], o[0]); break;
            case DType.Float64: d.Unary<TD, double>(c, db, i[0], o[0]); break;
            case DType.Int32 when dtypes.Contains(DType.Int32): d.Unary<TI, int>(c, n, i[0], o[0]); break;
            case DType.Int64 when dtypes.Contains(DType.Int64): d.Unary<TL, long>(c, l, i[0], o[0]); break;
            default: throw Unsupported(c.Op, i[0].DType);
        }
    }
}

/// <summary>A binary broadcasting op: one struct operator per dtype.</summary>
public sealed class BinaryMath<TF, TD, TI, TL> : ElementwiseMath<NoAttrs>
    where TF : struct, IBinaryOperator<float> where TD : struct, IBinaryOperator<double>
    where TI : struct, IBinaryOperator<int> where TL : struct, IBinaryOperator<long>
{
    private static readonly DType[] Numeric = [DType.Float32, DType.Float64, DType.Int32, DType.Int64];

    public override int Arity => 2;

    public override IReadOnlyList<DType> DTypes => Numeric;

    public override Type OperatorType(DType dtype) => dtype switch
    {
        DType.Float32 => typeof(TF), DType.Float64 => typeof(TD), DType.Int32 => typeof(TI),
        DType.Int64 => typeof(TL), _ => throw Unsupported("elementwise", dtype),
    };

    public override double Evaluate(OpAttrs attrs, ReadOnlySpan<double> x) => default(TD).Invoke(x[0], x[1]);

    public override object Operator(OpAttrs attrs, DType dtype) => Activator.CreateInstance(OperatorType(dtype))!;

    internal override void Run(IElementwiseDriver d, NoAttrs attrs, KernelContext c, TensorArg[] i, TensorArg[] o)
    {
        var shape = o[0].Shape;
        var a = Broadcast(i[0], shape);
        var b = Broadcast(i[1], shape);
        switch (a.DType)
        {
            case DType.Float32: d.Binary<TF, float>(c, default, a, b, o[0]); break;
            case DType.Float64: d.Binary<TD, double>(c, default, a, b, o[0]); break;
            case DType.Int32: d.Binary<TI, int>(c, default, a, b, o[0]); break;
            case DType.Int64: d.Binary<TL, long>(c, default, a, b, o[0]); break;
            default: throw Unsupported(c.Op, a.DType);
        }
    }
}

/// <summary>A ternary broadcasting op (where): one struct operator per dtype.</summary>
public sealed class TernaryMath<TF, TD, TI, TL> : ElementwiseMath<NoAttrs>
    where TF : struct, ITernaryOperator<float> where TD : struct, ITernaryOperator<double>
    where TI : struct, ITernaryOperator<int> where TL : struct, ITernaryOperator<long>
{
    private static readonly DType[] Numeric = [DType.Float32, DType.Float64, DType.Int32, DType.Int64];

    public override int Arity => 3;

    public override IReadOnlyList<DType> DTypes => Numeric;

    public override Type OperatorType(DType dtype) => dtype switch
    {
        DType.Float32 => typeof(TF), DType.Float64 => typeof(TD), DType.Int32 => typeof(TI),
        DType.Int64 => typeof(TL), _ => throw Unsupported("elementwise", dtype),
    };

    public override double Evaluate(OpAttrs attrs, ReadOnlySpan<double> x) =>
        default(TD).Invoke(x[0], x[1], x[2]);

    public override object Operator(OpAttrs attrs, DType dtype) => Activator.CreateInstance(OperatorType(dtype))!;

    internal override void Run(IElementwiseDriver d, NoAttrs attrs, KernelContext c, TensorArg[] i, TensorArg[] o)
    {
        var shape = o[0].Shape;
        var a = Broadcast(i[0], shape);
        var b = Broadcast(i[1], shape);
        var e = Broadcast(i[2], shape);
        switch (b.DType)
        {
            case DType.Float32: d.Ternary<TF, float>(c, default, a, b, e, o[0]); break;
            case DType.Float64: d.Ternary<TD, double>(c, default, a, b, e, o[0]); break;
            case DType.Int32: d.Ternary<TI, int>(c, default, a, b, e, o[0]); break;
            case DType.Int64: d.Ternary<TL, long>(c, default, a, b, e, o[0]); break;
            default: throw Unsupported(c.Op, b.DType);
        }
    }
}
