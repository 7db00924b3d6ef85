using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterConvolution()
    {
        Register(ConvolutionOps.Convolution, static (a, c, i, o) =>
        {
            var d = a.Describe(i[0].Shape, i[1].Shape);
            var x = c.Contiguous(i[0]);
            var w = c.Contiguous(i[1]);
            var b = a.NoBias ? default : c.Contiguous(i[2]);
            if (x.DType == DType.Float32)
                CpuConvolution.Forward(d, x.Span<float>(), w.Span<float>(), a.NoBias ? default : b.Span<float>(),
                    o[0].Span<float>());
            else
                CpuConvolution.Forward(d, x.Span<double>(), w.Span<double>(), a.NoBias ? default : b.Span<double>(),
                    o[0].Span<double>());
            Epilogue.Apply(CpuElementwiseDriver.Instance, c, a.Activation, o[0]);
        });
        Register(ConvolutionOps.ConvolutionBackwardBias, static (_, c, i, o) =>
        {
            var s = i[0].Shape;
            int n = s[0], k = s[1], space = checked((int)s.SizeOf(2, s.Rank));
            // A 1x1 convolution with K channels and a 1 x space plane has exactly dy's layout.
            var d = new ConvolutionDescriptor(n, k, 1, space, k, 1, 1);
            var dy = c.Contiguous(i[0]);
            if (dy.DType == DType.Float32) CpuConvolution.BackwardBias(d, dy.Span<float>(), o[0].Span<float>());
            else CpuConvolution.BackwardBias(d, dy.Span<double>(), o[0].Span<double>());
        });
        Register(ConvolutionOps.ConvolutionBackwardData, static (a, c, i, o) =>
        {
            var d = a.Conv.Describe(a.OtherShape.ToShape(), i[1].Shape);
            var dy = c.Contiguous(i[0]);
            var w = c.Contiguous(i[1]);
            if (dy.DType == DType.Float32)
                CpuConvolution.BackwardData(d, dy.Span<float>(), w.Span<float>(), o[0].Span<float>());
            else
                CpuConvolution.BackwardData(d, dy.Span<double>(), w.Span<double>(), o[0].Span<double>());
        });
        Register(ConvolutionOps.ConvolutionBackwardWeight, static (a, c, i, o) =>
        {
            var d = a.Conv.Describe(i[0].Shape, a.OtherShape.ToShape());
            var x = c.Contiguous(i[0]);
            var dy = c.Contiguous(i[1]);
            if (x.DType == DType.Float32)
                CpuConvolution.BackwardWeight(d, x.Span<float>(), dy.Span<float>(), o[0].Span<float>());
            else
                CpuConvolution.BackwardWeight(d, x.Span<double>(), dy.Span<double>(), o[0].Span<double>());
        });
    }
}
