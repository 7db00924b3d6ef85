using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Fusion;

/// <summary>
/// Where a fused expression reads its inputs and writes its outputs: each backend supplies one (the CPU's holds
/// pointers and strides per row). Input and output numbers are constants once the expression is specialised, so
/// a backend can switch on them at no cost.
/// </summary>
public interface IFusedContext<T> where T : unmanaged
{
    T Load(int input, long index);

    Vector512<T> LoadVector(int input, long index);

    void Store(int output, long index, T value);

    void StoreVector(int output, long index, Vector512<T> value);
}

/// <summary>
/// A fused program as a type: leaves (<see cref="In0{T}"/> ...) read inputs and nodes apply struct operators to
/// sub-expressions, so <c>BinaryNode&lt;AddOperator&lt;float&gt;, UnaryNode&lt;ExpOperator&lt;float&gt;,
/// In0&lt;float&gt;&gt;, In1&lt;float&gt;, float&gt;</c> is exp(in0) + in1. The JIT (and ILGPU) specialise a generic
/// loop over such a type into straight-line code with no calls.
/// </summary>
public interface IFusedExpression<T> where T : unmanaged
{
    T Invoke<TC>(ref TC context, long index) where TC : struct, IFusedContext<T>;

    Vector512<T> InvokeVector<TC>(ref TC context, long index) where TC : struct, IFusedContext<T>;
}

/// <summary>Writes one or more expressions to the outputs: a chain of <see cref="StoreNode{TE, TNext, T}"/>.</summary>
public interface IFusedStore<T> where T : unmanaged
{
    void Store<TC>(ref TC context, long index) where TC : struct, IFusedContext<T>;

    void StoreVector<TC>(ref TC context, long index) where TC : struct, IFusedContext<T>;
}

public readonly struct In0<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(0, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(0, i);
}

public readonly struct In1<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(1, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(1, i);
}

public readonly struct In2<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(2, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(2, i);
}

public readonly struct In3<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(3, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(3, i);
}

public readonly struct In4<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(4, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(4, i);
}

public readonly struct In5<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(5, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(5, i);
}

public readonly struct In6<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(6, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(6, i);
}

public readonly struct In7<T> : IFusedExpression<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.Load(7, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => c.LoadVector(7, i);
}

/// <summary>An immediate constant (a folded scalar <c>full</c>).</summary>
public readonly struct ConstNode<T>(ConstantOperator<T> constant) : IFusedExpression<T> where T : unmanaged
{
    private readonly T value = constant.Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> =>
        Vector512.Create(value);
}

/// <summary>A unary operator applied to a sub-expression.</summary>
public readonly struct UnaryNode<TOp, TA, T> : IFusedExpression<T>
    where TOp : struct, IUnaryOperator<T> where TA : struct, IFusedExpression<T> where T : unmanaged
{
    private readonly TOp op;
    private readonly TA a;

    public UnaryNode(TOp op, TA a)
    {
        this.op = op;
        this.a = a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> => op.Invoke(a.Invoke(ref c, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> =>
        op.Invoke(a.InvokeVector(ref c, i));
}

/// <summary>A binary operator applied to two sub-expressions.</summary>
public readonly struct BinaryNode<TOp, TA, TB, T> : IFusedExpression<T>
    where TOp : struct, IBinaryOperator<T> where TA : struct, IFusedExpression<T>
    where TB : struct, IFusedExpression<T> where T : unmanaged
{
    private readonly TOp op;
    private readonly TA a;
    private readonly TB b;

    public BinaryNode(TOp op, TA a, TB b)
    {
        this.op = op;
        this.a = a;
        this.b = b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> =>
        op.Invoke(a.Invoke(ref c, i), b.Invoke(ref c, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> =>
        op.Invoke(a.InvokeVector(ref c, i), b.InvokeVector(ref c, i));
}

/// <summary>A ternary operator (where) applied to three sub-expressions.</summary>
public readonly struct TernaryNode<TOp, TA, TB, TD, T> : IFusedExpression<T>
    where TOp : struct, ITernaryOperator<T> where TA : struct, IFusedExpression<T>
    where TB : struct, IFusedExpression<T> where TD : struct, IFusedExpression<T> where T : unmanaged
{
    private readonly TOp op;
    private readonly TA a;
    private readonly TB b;
    private readonly TD d;

    public TernaryNode(TOp op, TA a, TB b, TD d)
    {
        this.op = op;
        this.a = a;
        this.b = b;
        this.d = d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> =>
        op.Invoke(a.Invoke(ref c, i), b.Invoke(ref c, i), d.Invoke(ref c, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> InvokeVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> =>
        op.Invoke(a.InvokeVector(ref c, i), b.InvokeVector(ref c, i), d.InvokeVector(ref c, i));
}

/// <summary>Stores expression <typeparamref name="TE"/> to output <c>output</c>, then the rest of the chain.</summary>
public readonly struct StoreNode<TE, TNext, T> : IFusedStore<T>
    where TE : struct, IFusedExpression<T> where TNext : struct, IFusedStore<T> where T : unmanaged
{
    private readonly int output;
    private readonly TE expression;
    private readonly TNext next;

    public StoreNode(int output, TE expression, TNext next)
    {
        this.output = output;
        this.expression = expression;
        this.next = next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TC>(ref TC c, long i) where TC : struct, IFusedContext<T>
    {
        c.Store(output, i, expression.Invoke(ref c, i));
        next.Store(ref c, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T>
    {
        c.StoreVector(output, i, expression.InvokeVector(ref c, i));
        next.StoreVector(ref c, i);
    }
}

/// <summary>The end of a store chain.</summary>
public readonly struct StoreEnd<T> : IFusedStore<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreVector<TC>(ref TC c, long i) where TC : struct, IFusedContext<T> { }
}
