using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

public readonly struct AddOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x + y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
}

public readonly struct SubtractOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x - y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x - y;
}

public readonly struct MultiplyOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => x * y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x * y;
}

/// <summary>Division; integer division by zero gives 0 rather than crashing the process.</summary>
public readonly struct DivideOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public bool Vectorized => typeof(T) == typeof(float) || typeof(T) == typeof(double);
    // 1 / 2 is 0 only for integral types. Arithmetic rather than typeof or CreateTruncating (which tests types
    // inside): GPU kernels compile this scalar form too, and the JIT folds the test away.
    public T Invoke(T x, T y) => y == T.Zero && T.One / (T.One + T.One) == T.Zero ? T.Zero : x / y;
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x / y;
}

/// <summary>Elementwise maximum; NaN propagates.</summary>
public readonly struct MaximumOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => T.Max(x, y);
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Max(x, y);
}

/// <summary>Elementwise minimum; NaN propagates.</summary>
public readonly struct MinimumOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T y) => T.Min(x, y);
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Min(x, y);
}

/// <summary>x^y. Scalar only: a vector exp(y*log(x)) is wrong for negative bases with integer exponents.</summary>
public readonly struct PowerOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public bool Vectorized => false;

    public T Invoke(T x, T y)
    {
        if (typeof(T) == typeof(float)) return (T)(object)MathF.Pow((float)(object)x, (float)(object)y);
        return T.CreateTruncating(Math.Pow(double.CreateTruncating(x), double.CreateTruncating(y)));
    }

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => throw new NotSupportedException();
}

public readonly struct NegateOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => -x;
    public Vector512<T> Invoke(Vector512<T> x) => -x;
}

public readonly struct AbsOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => T.Abs(x);
    public Vector512<T> Invoke(Vector512<T> x) => Vector512.Abs(x);
}

/// <summary>-1, 0 or 1 (0 for NaN is not promised: NaN stays NaN for floats).</summary>
public readonly struct SignOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public bool Vectorized => false;
    public T Invoke(T x) => T.IsNaN(x) ? x : x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;
    public Vector512<T> Invoke(Vector512<T> x) => throw new NotSupportedException();
}

public readonly struct SquareOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => x * x;
    public Vector512<T> Invoke(Vector512<T> x) => x * x;
}

public readonly struct IdentityOperator<T> : IUnaryOperator<T> where T : unmanaged
{
    public T Invoke(T x) => x;
    public Vector512<T> Invoke(Vector512<T> x) => x;
}

/// <summary>Clamps into [Min, Max]; NaN stays NaN.</summary>
public readonly struct ClipOperator<T>(T min, T max) : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => T.IsNaN(x) ? x : x < min ? min : x > max ? max : x;

    public Vector512<T> Invoke(Vector512<T> x)
    {
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(min)), Vector512.Create(max));
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), clamped, x);
    }
}

/// <summary>cond != 0 ? x : y.</summary>
public readonly struct WhereOperator<T> : ITernaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T cond, T x, T y) => cond != T.Zero ? x : y;

    public Vector512<T> Invoke(Vector512<T> cond, Vector512<T> x, Vector512<T> y) =>
        Vector512.ConditionalSelect(Vector512.Equals(cond, Vector512<T>.Zero), y, x);
}
