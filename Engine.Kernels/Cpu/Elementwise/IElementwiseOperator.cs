using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// An elementwise function of one value, written once for a scalar and once for a 512-bit vector. Operators are
/// readonly structs so the generic driver is specialised and inlined per operator: no call per element.
/// Parameters (a clip range, a slope) are fields of the struct.
/// </summary>
public interface IUnaryOperator<T> where T : unmanaged
{
    /// <summary>
    /// False when the vector form is not implemented; the driver then runs the scalar form. Read once per operator
    /// type (from its default value), so it may depend on T but not on the operator's fields.
    /// </summary>
    bool Vectorized => true;

    T Invoke(T x);

    Vector512<T> Invoke(Vector512<T> x);
}

public interface IBinaryOperator<T> where T : unmanaged
{
    /// <summary>As <see cref="IUnaryOperator{T}.Vectorized"/>: per type, not per instance.</summary>
    bool Vectorized => true;

    T Invoke(T x, T y);

    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}

public interface ITernaryOperator<T> where T : unmanaged
{
    T Invoke(T x, T y, T z);

    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> z);
}
