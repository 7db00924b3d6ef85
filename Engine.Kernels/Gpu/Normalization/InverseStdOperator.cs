using System.Numerics;
using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Gpu;

/// <summary>1 / sqrt(x + eps): batch norm's saved inverse standard deviation from a running variance.</summary>
public readonly struct InverseStdOperator<T>(T epsilon) : IUnaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => T.One / T.Sqrt(x + epsilon);

    public Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / Vector512.Sqrt(x + Vector512.Create(epsilon));
}
