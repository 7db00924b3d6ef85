using Engine.Kernels;
using Engine.Ops;

namespace Engine.Tests.Autograd;

// Finite-difference cases for the 3-D convolution and pooling and the transposed convolutions.
public partial class GradientCheckTests
{
    private static IEnumerable<GradientCase> ConvolutionNdCases()
    {
        yield return new GradientCase("convolution", new ConvolutionAttrs([1, 2, 1], [1, 0, 1], [1, 1, 2]),
            r => [Rand(r, -1, 1, 2, 2, 3, 5, 5), Rand(r, -1, 1, 3, 2, 2, 3, 2), Rand(r, -1, 1, 3)], "conv3d");
        yield return new GradientCase("convolution", new ConvolutionAttrs([1, 1, 1], [0, 0, 0], [1, 1, 1], 2, true),
            r => [Rand(r, -1, 1, 1, 4, 3, 3, 3), Rand(r, -1, 1, 2, 2, 2, 2, 2)], "conv3d groups, no bias");
        yield return new GradientCase("deconvolution", new DeconvolutionAttrs([2], [1], [1], [1]),
            r => [Rand(r, -1, 1, 2, 3, 4), Rand(r, -1, 1, 3, 2, 3), Rand(r, -1, 1, 2)], "1d s2 adj1");
        yield return new GradientCase("deconvolution", new DeconvolutionAttrs([2, 2], [1, 1], [1, 1], [0, 0]),
            r => [Rand(r, -1, 1, 2, 3, 3, 3), Rand(r, -1, 1, 3, 2, 4, 4), Rand(r, -1, 1, 2)], "2d k4 s2 p1");
        yield return new GradientCase("deconvolution", new DeconvolutionAttrs([2, 1], [0, 1], [2, 1], [1, 0],
                NumGroup: 2, NoBias: true),
            r => [Rand(r, -1, 1, 1, 4, 3, 3), Rand(r, -1, 1, 4, 1, 2, 3)], "2d groups dilation adj, no bias");
        yield return new GradientCase("deconvolution", new DeconvolutionAttrs([1, 2, 1], [0, 1, 0], [1, 1, 1],
                [0, 1, 0]),
            r => [Rand(r, -1, 1, 1, 2, 2, 3, 2), Rand(r, -1, 1, 2, 2, 2, 3, 2), Rand(r, -1, 1, 2)], "3d");
        yield return new GradientCase("pooling", new PoolingAttrs(PoolingMode.Max, [2, 2, 2], [2, 1, 2],
            [1, 0, 1]), r => [Distinct(r, 1, 2, 3, 4, 4)], "max 3d");
        yield return new GradientCase("pooling", new PoolingAttrs(PoolingMode.Avg, [3, 2, 3], [2, 2, 2], [1, 1, 1],
                Convention: PoolingConvention.Full, CountIncludePad: false),
            r => [Rand(r, -1, 1, 1, 2, 4, 5, 4)], "avg 3d full exclude pad");
        yield return new GradientCase("pooling", new PoolingAttrs(PoolingMode.Avg, [1, 1, 1], [1, 1, 1], [0, 0, 0],
            GlobalPool: true), r => [Rand(r, -1, 1, 2, 2, 2, 3, 2)], "global avg 3d");
        yield return new GradientCase("pooling", new PoolingAttrs(PoolingMode.Max, [1], [1], [0], GlobalPool: true),
            r => [Distinct(r, 2, 3, 5)], "global max 1d");
    }
}
