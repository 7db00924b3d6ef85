using Engine.Kernels.Cpu;

namespace Engine.Kernels;

/// <summary>
/// A backend's generic elementwise loops. An elementwise operator is a struct operator type (AddOperator&lt;T&gt;,
/// ReluOperator&lt;T&gt;); each backend runs it through these drivers, which its compiler specialises per operator
/// type: the .NET JIT for the CPU's SIMD loops, ILGPU for GPU kernels. Inputs arrive with layouts already
/// broadcast to the output's shape (stride 0 on broadcast dimensions); the output is contiguous.
/// </summary>
public interface IElementwiseDriver
{
    void Unary<TOp, T>(KernelContext context, TOp op, in TensorArg x, in TensorArg y)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged;

    void Binary<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg y)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged;

    void Ternary<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg c,
        in TensorArg y) where TOp : struct, ITernaryOperator<T> where T : unmanaged;
}
