using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Backends;

/// <summary>
/// Applies an <see cref="EpilogueActivation"/> to a kernel's dense output in place, through the backend's
/// elementwise driver, right after the product wrote it (the output is still warm in cache on the CPU).
/// </summary>
internal static class Epilogue
{
    public static void Apply(IElementwiseDriver driver, KernelContext context, EpilogueActivation activation,
        in TensorArg y)
    {
        if (activation == EpilogueActivation.None || y.Size == 0) return;
        switch (y.DType)
        {
            case DType.Float32: Apply<float>(driver, context, activation, y); break;
            case DType.Float64: Apply<double>(driver, context, activation, y); break;
            default:
                throw new NotSupportedException(
                    $"{context.Op}: a fused {activation} epilogue needs float32 or float64, got {y.DType.Name()}.");
        }
    }

    private static void Apply<T>(IElementwiseDriver d, KernelContext c, EpilogueActivation activation, TensorArg y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        switch (activation)
        {
            case EpilogueActivation.Relu: d.Unary<ReluOperator<T>, T>(c, default, y, y); break;
            case EpilogueActivation.Sigmoid: d.Unary<SigmoidOperator<T>, T>(c, default, y, y); break;
            case EpilogueActivation.Tanh: d.Unary<TanhOperator<T>, T>(c, default, y, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, null);
        }
    }
}
