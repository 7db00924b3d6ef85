namespace Engine.Kernels.Cpu;

/// <summary>
/// The CPU's elementwise driver: the SIMD loops of <see cref="CpuElementwise"/> over kernel arguments.
/// </summary>
public sealed class CpuElementwiseDriver : IElementwiseDriver
{
    public static CpuElementwiseDriver Instance { get; } = new();

    private CpuElementwiseDriver() { }

    public void Unary<TOp, T>(KernelContext context, TOp op, in TensorArg x, in TensorArg y)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged =>
        CpuElementwise.Unary(op, x.Buffer<T>(), x.Layout, y.Span<T>());

    public void Binary<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg y)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged =>
        CpuElementwise.Binary(op, a.Buffer<T>(), a.Layout, b.Buffer<T>(), b.Layout, y.Span<T>());

    public void Ternary<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg c,
        in TensorArg y) where TOp : struct, ITernaryOperator<T> where T : unmanaged =>
        CpuElementwise.Ternary(op, a.Buffer<T>(), a.Layout, b.Buffer<T>(), b.Layout, c.Buffer<T>(), c.Layout,
            y.Span<T>());
}
