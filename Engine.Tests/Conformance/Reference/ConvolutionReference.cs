using Engine.Kernels;

namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// The living definition of convolution: seven nested loops in double precision, read straight off the formula
/// y[n, k, oh, ow] = b[k] + sum over (c, r, s) of x[n, g * C/g + c, oh * sh - ph + r * dh, ow * sw - pw + s * dw]
/// * w[k, c, r, s], where g = k / (K/g) and positions outside the input read 0.
/// </summary>
public static class ConvolutionReference
{
    public static double[] Forward(ConvolutionDescriptor d, double[] x, double[] w, double[]? bias)
    {
        var y = new double[d.OutputSize];
        for (int n = 0; n < d.Batch; n++)
        for (int k = 0; k < d.OutChannels; k++)
        for (int oh = 0; oh < d.OutHeight; oh++)
        for (int ow = 0; ow < d.OutWidth; ow++)
        {
            double sum = bias is null ? 0 : bias[k];
            for (int c = 0; c < d.InChannelsPerGroup; c++)
            for (int r = 0; r < d.KernelH; r++)
            for (int s = 0; s < d.KernelW; s++)
            {
                if (InputIndex(d, n, k, c, oh, ow, r, s) is long xi)
                    sum += x[xi] * w[WeightIndex(d, k, c, r, s)];
            }
            y[OutputIndex(d, n, k, oh, ow)] = sum;
        }
        return y;
    }

    /// <summary>dx[i] = sum over the (y, w) pairs that read x[i] of dy * w.</summary>
    public static double[] BackwardData(ConvolutionDescriptor d, double[] dy, double[] w)
    {
        var dx = new double[d.InputSize];
        for (int n = 0; n < d.Batch; n++)
        for (int k = 0; k < d.OutChannels; k++)
        for (int oh = 0; oh < d.OutHeight; oh++)
        for (int ow = 0; ow < d.OutWidth; ow++)
        for (int c = 0; c < d.InChannelsPerGroup; c++)
        for (int r = 0; r < d.KernelH; r++)
        for (int s = 0; s < d.KernelW; s++)
        {
            if (InputIndex(d, n, k, c, oh, ow, r, s) is long xi)
                dx[xi] += dy[OutputIndex(d, n, k, oh, ow)] * w[WeightIndex(d, k, c, r, s)];
        }
        return dx;
    }

    /// <summary>dw[k, c, r, s] = sum over n, oh, ow of dy * the input value that tap read.</summary>
    public static double[] BackwardWeight(ConvolutionDescriptor d, double[] x, double[] dy)
    {
        var dw = new double[d.WeightSize];
        for (int n = 0; n < d.Batch; n++)
        for (int k = 0; k < d.OutChannels; k++)
        for (int oh = 0; oh < d.OutHeight; oh++)
        for (int ow = 0; ow < d.OutWidth; ow++)
        for (int c = 0; c < d.InChannelsPerGroup; c++)
        for (int r = 0; r < d.KernelH; r++)
        for (int s = 0; s < d.KernelW; s++)
        {
            if (InputIndex(d, n, k, c, oh, ow, r, s) is long xi)
                dw[WeightIndex(d, k, c, r, s)] += x[xi] * dy[OutputIndex(d, n, k, oh, ow)];
        }
        return dw;
    }

    /// <summary>db[k] = sum over n, oh, ow of dy[n, k, oh, ow].</summary>
    public static double[] BackwardBias(ConvolutionDescriptor d, double[] dy)
    {
        var db = new double[d.OutChannels];
        for (int n = 0; n < d.Batch; n++)
        for (int k = 0; k < d.OutChannels; k++)
        for (int oh = 0; oh < d.OutHeight; oh++)
        for (int ow = 0; ow < d.OutWidth; ow++)
            db[k] += dy[OutputIndex(d, n, k, oh, ow)];
        return db;
    }

    /// <summary>The flat index of the input element tap (c, r, s) of output (n, k, oh, ow) reads, or null in the
    /// padding.</summary>
    private static long? InputIndex(ConvolutionDescriptor d, int n, int k, int c, int oh, int ow, int r, int s)
    {
        int ih = oh * d.StrideH - d.PadH + r * d.DilationH;
        int iw = ow * d.StrideW - d.PadW + s * d.DilationW;
        if (ih < 0 || ih >= d.InHeight || iw < 0 || iw >= d.InWidth) return null;
        int channel = k / d.OutChannelsPerGroup * d.InChannelsPerGroup + c;
        return (((long)n * d.InChannels + channel) * d.InHeight + ih) * d.InWidth + iw;
    }

    private static long WeightIndex(ConvolutionDescriptor d, int k, int c, int r, int s) =>
        (((long)k * d.InChannelsPerGroup + c) * d.KernelH + r) * d.KernelW + s;

    private static long OutputIndex(ConvolutionDescriptor d, int n, int k, int oh, int ow) =>
        (((long)n * d.OutChannels + k) * d.OutHeight + oh) * d.OutWidth + ow;
}
