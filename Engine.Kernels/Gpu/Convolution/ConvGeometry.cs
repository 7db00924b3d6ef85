namespace Engine.Kernels.Gpu;

/// <summary>A convolution's sizes for GPU kernels (a descriptor's numbers as scalar fields).</summary>
public struct ConvGeometry
{
    public int N, C, H, W, K, R, S, OH, OW;
    public int StrideH, StrideW, PadH, PadW, DilationH, DilationW;

    /// <summary>Input and output channels per group.</summary>
    public int Cg, Kg;

    internal static ConvGeometry Of(ConvolutionDescriptor d) => new()
    {
        N = d.Batch, C = d.InChannels, H = d.InHeight, W = d.InWidth, K = d.OutChannels, R = d.KernelH,
        S = d.KernelW, OH = d.OutHeight, OW = d.OutWidth, StrideH = d.StrideH, StrideW = d.StrideW, PadH = d.PadH,
        PadW = d.PadW, DilationH = d.DilationH, DilationW = d.DilationW, Cg = d.InChannelsPerGroup,
        Kg = d.OutChannelsPerGroup,
    };

    /// <summary>
    /// Element (crs, p) of group g's im2col matrix: input channel g Cg + c at tap (r, s) for output pixel p of the
    /// batch (p runs over n, oh, ow), or 0 in the padding.
    /// </summary>
    public readonly float Im2Col(Engine.Kernels.Gpu.ConvViews.Input x, int g, int crs, int p)
    {
        int rs = R * S;
        int c = crs / rs, t = crs - c * rs;
        int r = t / S, s = t - r * S;
        int ohw = OH * OW;
        int n = p / ohw, q = p - n * ohw;
        int oh = q / OW, ow = q - oh * OW;
        int ih = oh * StrideH - PadH + r * DilationH;
        int iw = ow * StrideW - PadW + s * DilationW;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) return 0f;
        return x.Data[((n * C + g * Cg + c) * H + ih) * W + iw];
    }
}
