using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>Comparisons return 1 or 0 in the operands' type, as MXNet does.</summary>
public readonly struct EqualOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x == y ? T.One : T.Zero;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Equals(x, y) & Vector512<T>.One;
}

public readonly struct NotEqualOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x != y ? T.One : T.Zero;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => ~Vector512.Equals(x, y) & Vector512<T>.One;
}

public readonly struct GreaterOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x > y ? T.One : T.Zero;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThan(x, y) & Vector512<T>.One;
}

public readonly struct GreaterEqualOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x >= y ? T.One : T.Zero;

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) =>
        Vector512.GreaterThanOrEqual(x, y) & Vector512<T>.One;
}

public readonly struct LessOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x < y ? T.One : T.Zero;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.LessThan(x, y) & Vector512<T>.One;
}

public readonly struct LessEqualOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x <= y ? T.One : T.Zero;

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) =>
        Vector512.LessThanOrEqual(x, y) & Vector512<T>.One;
}
