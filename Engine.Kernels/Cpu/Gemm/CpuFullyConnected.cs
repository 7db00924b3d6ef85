using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>MXNet's FullyConnected on dense row-major operands: y = x W^T + b.</summary>
public static class CpuFullyConnected
{
    /// <summary>
    /// x is (rows, k), w is (n, k), bias is (n) or empty for none, y is (rows, n). The bias is written into y first
    /// and the product accumulated onto it (beta = 1), which costs one pass less than adding it afterwards.
    /// </summary>
    public static void Forward<T>(int rows, int k, int n, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias,
        Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T beta = T.Zero;
        if (!bias.IsEmpty)
        {
            var b = bias[..n];
            for (int r = 0; r < rows; r++) b.CopyTo(y.Slice(r * n, n));
            beta = T.One;
        }
        CpuGemm.Gemm(false, true, rows, n, k, T.One, x, k, w, k, beta, y, n);
    }
}
