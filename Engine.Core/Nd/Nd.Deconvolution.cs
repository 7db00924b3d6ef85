using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    /// <summary>
    /// MXNet's Deconvolution (transposed convolution) on NCW, NCHW or NCDHW data with weight
    /// (C_in, F / groups, kernel...): the adjoint of <see cref="Convolution"/> with the same stride, pad, dilate and
    /// groups. <paramref name="adj"/> (PyTorch's output_padding) adds to the far side of each output extent, and a
    /// nonzero <paramref name="targetShape"/> picks pad and adj so the output has exactly that spatial shape.
    /// Stride, pad, dilate and adj take one value per spatial dimension (default 1, 0, 1, 0).
    /// </summary>
    public static NDArray Deconvolution(NDArray x, NDArray weight, NDArray? bias, int[]? stride = null,
        int[]? pad = null, int[]? dilate = null, int[]? adj = null, int[]? targetShape = null, int groups = 1)
    {
        int spatial = Math.Max(1, x.Rank - 2);
        var attrs = new DeconvolutionAttrs(stride ?? Enumerable.Repeat(1, spatial).ToArray(),
            pad ?? new int[spatial], dilate ?? Enumerable.Repeat(1, spatial).ToArray(), adj ?? new int[spatial],
            targetShape ?? [], groups, bias is null);
        return DeconvolutionOps.Deconvolution.Call(attrs, bias is null ? [x, weight] : [x, weight, bias]);
    }
}
