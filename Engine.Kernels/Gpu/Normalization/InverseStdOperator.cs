using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Gpu;

/// <summary>1 / sqrt(x + eps): batch norm's saved inverse standard deviation from a running variance.</summary>
public readonly struct InverseStdOperator(float epsilon) : IUnaryOperator<float>
{
    public float Invoke(float x) => 1f / MathF.Sqrt(x + epsilon);

    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512<float>.One / Vector512.Sqrt(x + Vector512.Create(epsilon));
}
