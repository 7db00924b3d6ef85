using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Fusion;

/// <summary>
/// An immediate operand of a fused program (a scalar <c>full</c> folded in): an instruction with no operands whose
/// value is this field. As a unary operator it ignores its argument, so a backend that runs programs one
/// elementwise kernel per instruction fills the register by applying it in place.
/// </summary>
public readonly struct ConstantOperator<T>(T value) : IUnaryOperator<T> where T : unmanaged
{
    public T Value { get; } = value;

    public T Invoke(T x) => Value;

    public Vector512<T> Invoke(Vector512<T> x) => Vector512.Create(Value);
}
