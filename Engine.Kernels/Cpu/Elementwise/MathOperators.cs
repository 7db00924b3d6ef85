using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>Vector transcendentals for float and double; the JIT drops the branch not taken.</summary>
internal static class VectorMath
{
    public static Vector512<T> Exp<T>(Vector512<T> x) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Vector512.Exp(x.AsSingle()).As<float, T>()
            : Vector512.Exp(x.AsDouble()).As<double, T>();

    public static Vector512<T> Log<T>(Vector512<T> x) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Vector512.Log(x.AsSingle()).As<float, T>()
            : Vector512.Log(x.AsDouble()).As<double, T>();

    public static Vector512<T> Sqrt<T>(Vector512<T> x) where T : unmanaged => Vector512.Sqrt(x);
}

public readonly struct ExpOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.Exp(x);
    public Vector512<T> Invoke(Vector512<T> x) => VectorMath.Exp(x);
}

public readonly struct LogOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.Log(x);
    public Vector512<T> Invoke(Vector512<T> x) => VectorMath.Log(x);
}

public readonly struct SqrtOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.Sqrt(x);
    public Vector512<T> Invoke(Vector512<T> x) => VectorMath.Sqrt(x);
}

public readonly struct RsqrtOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.One / T.Sqrt(x);
    public Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / VectorMath.Sqrt(x);
}

public readonly struct ReciprocalOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.One / x;
    public Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / x;
}

/// <summary>max(x, 0), with NaN kept as NaN (as PyTorch): every comparison with NaN is false, so only x &lt; 0
/// becomes 0. Hiding a diverged value behind a 0 would be worse than showing it.</summary>
public readonly struct ReluOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => x < T.Zero ? T.Zero : x;
    public Vector512<T> Invoke(Vector512<T> x) =>
        Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), Vector512<T>.Zero, x);
}

/// <summary>The gradient of relu from its output: (y, dy) gives 0 where y &lt;= 0, else dy, so a NaN output
/// passes its gradient on (as PyTorch's threshold backward).</summary>
public readonly struct ReluBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T y, T dy) => y <= T.Zero ? T.Zero : dy;

    public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) =>
        Vector512.ConditionalSelect(Vector512.LessThanOrEqual(y, Vector512<T>.Zero), Vector512<T>.Zero, dy);
}

/// <summary>1 / (1 + exp(-x)).</summary>
public readonly struct SigmoidOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.One / (T.One + T.Exp(-x));
    public Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / (Vector512<T>.One + VectorMath.Exp(-x));
}

/// <summary>tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|), which never overflows.</summary>
public readonly struct TanhOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.Tanh(x);

    public Vector512<T> Invoke(Vector512<T> x)
    {
        var ax = Vector512.Abs(x);
        var e = VectorMath.Exp(ax * Vector512.Create(T.CreateTruncating(-2)));
        var t = (Vector512<T>.One - e) / (Vector512<T>.One + e);
        // Copy the sign of x onto t (t >= 0): flip where x < 0.
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -t, t);
    }
}

/// <summary>softrelu (softplus): log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), stable for large |x|.</summary>
public readonly struct SoftReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.Max(x, T.Zero) + T.Log(T.One + T.Exp(-T.Abs(x)));

    public Vector512<T> Invoke(Vector512<T> x) =>
        Vector512.Max(x, Vector512<T>.Zero) + VectorMath.Log(Vector512<T>.One + VectorMath.Exp(-Vector512.Abs(x)));
}

/// <summary>x / (1 + |x|).</summary>
public readonly struct SoftSignOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => x / (T.One + T.Abs(x));
    public Vector512<T> Invoke(Vector512<T> x) => x / (Vector512<T>.One + Vector512.Abs(x));
}

/// <summary>Leaky ReLU: x for x &gt; 0, slope * x otherwise.</summary>
public readonly struct LeakyReluOperator<T>(T slope) : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => x > T.Zero ? x : slope * x;

    public Vector512<T> Invoke(Vector512<T> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * Vector512.Create(slope));
}
