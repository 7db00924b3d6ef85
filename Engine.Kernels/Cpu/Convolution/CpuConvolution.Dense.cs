using System.Numerics;

namespace Engine.Kernels.Cpu;

// A convolution whose kernel covers its whole unpadded input (one output pixel, no groups) is a fully-connected
// layer: x (N, C * R * S) times w (K, C * R * S) transposed. A DCGAN generator's first layer is the transposed
// form (a 1x1 input grown to 4x4), whose forward is this convolution's data gradient. One GEMM per pass beats
// staging columns for a product whose "image" is a single pixel.
public static unsafe partial class CpuConvolution
{
    /// <summary>Whether the layer is a dense product (see above); only on the automatic path choice.</summary>
    private static bool IsDense(ConvolutionDescriptor d) =>
        Path == CpuConvolutionPath.Auto && d.Groups == 1 && d.InChannels > 0 && d.OutChannels > 0 &&
        d.OutHeight == 1 && d.OutWidth == 1 &&
        d.PadH == 0 && d.PadW == 0 && d.KernelH == d.InHeight && d.KernelW == d.InWidth;

    // y (N, K) = x (N, CRS) w^T + bias.
    private static void ForwardDense<T>(ConvolutionDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> bias, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int depth = checked((int)(d.WeightSize / Math.Max(1, d.OutChannels))), k = d.OutChannels;
        CpuGemm.Gemm(false, true, d.Batch, k, depth, T.One, x, depth, w, depth, T.Zero, y, k);
        if (bias.IsEmpty) return;
        for (int n = 0; n < d.Batch; n++)
        {
            var row = y.Slice(n * k, k);
            for (int c = 0; c < k; c++) row[c] += bias[c];
        }
    }

    // dx (N, CRS) = dy (N, K) w.
    private static void BackwardDataDense<T>(ConvolutionDescriptor d, ReadOnlySpan<T> dy, ReadOnlySpan<T> w,
        Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int depth = checked((int)(d.WeightSize / Math.Max(1, d.OutChannels))), k = d.OutChannels;
        CpuGemm.Gemm(false, false, d.Batch, depth, k, T.One, dy, k, w, depth, T.Zero, dx, depth);
    }

    // dw (K, CRS) = dy^T (K, N) x (N, CRS).
    private static void BackwardWeightDense<T>(ConvolutionDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> dy,
        Span<T> dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int depth = checked((int)(d.WeightSize / Math.Max(1, d.OutChannels))), k = d.OutChannels;
        CpuGemm.Gemm(true, false, k, depth, d.Batch, T.One, dy, k, x, depth, T.Zero, dw, depth);
    }
}
