using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// A 3-D convolution's sizes for GPU kernels (a <see cref="Convolution3DDescriptor"/>'s numbers as scalar fields):
/// input (N, C, D, H, W), weight (K, Cg, T, R, S), output (N, K, OD, OH, OW).
/// </summary>
public struct Conv3DGeometry
{
    public int N, C, D, H, W, K, T, R, S, OD, OH, OW;
    public int StrideD, StrideH, StrideW, PadD, PadH, PadW, DilationD, DilationH, DilationW;

    /// <summary>Input and output channels per group.</summary>
    public int Cg, Kg;

    internal static Conv3DGeometry Of(Convolution3DDescriptor d) => new()
    {
        N = d.Batch, C = d.InChannels, D = d.Input.D, H = d.Input.H, W = d.Input.W, K = d.OutChannels,
        T = d.Kernel.D, R = d.Kernel.H, S = d.Kernel.W, OD = d.Output.D, OH = d.Output.H, OW = d.Output.W,
        StrideD = d.Stride.D, StrideH = d.Stride.H, StrideW = d.Stride.W, PadD = d.Pad.D, PadH = d.Pad.H,
        PadW = d.Pad.W, DilationD = d.Dilation.D, DilationH = d.Dilation.H, DilationW = d.Dilation.W,
        Cg = d.InChannelsPerGroup, Kg = d.OutChannelsPerGroup,
    };

    /// <summary>Output voxels per image, OD OH OW.</summary>
    public readonly int OutputVolume => OD * OH * OW;

    /// <summary>Taps per input channel, T R S.</summary>
    public readonly int Taps => T * R * S;

    /// <summary>
    /// Element (ctrs, p) of group g's vol2col matrix (the 3-D im2col): input channel g Cg + c at tap (t, r, s) for
    /// output voxel p of the batch (p runs over n, od, oh, ow), or 0 in the padding.
    /// </summary>
    public readonly float Vol2Col(ArrayView<float> x, int g, int ctrs, int p)
    {
        int rs = R * S, trs = T * rs;
        int c = ctrs / trs, rest = ctrs - c * trs;
        int t = rest / rs;
        rest -= t * rs;
        int r = rest / S, s = rest - r * S;
        int ohw = OH * OW, volume = OD * ohw;
        int n = p / volume, q = p - n * volume;
        int od = q / ohw;
        q -= od * ohw;
        int oh = q / OW, ow = q - oh * OW;
        int id = od * StrideD - PadD + t * DilationD;
        int ih = oh * StrideH - PadH + r * DilationH;
        int iw = ow * StrideW - PadW + s * DilationW;
        if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) return 0f;
        return x[(((n * C + g * Cg + c) * D + id) * H + ih) * W + iw];
    }
}
