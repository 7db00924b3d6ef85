using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    // 3-D convolutions and the transposed convolutions have no GPU kernel yet: they run the CPU kernel on host
    // copies (OnCpu), correct and slow, as docs/gpu.md says.
    private void RegisterConvolution()
    {
        Register(DeconvolutionOps.Deconvolution, OnCpu(DeconvolutionOps.Deconvolution));
        Register(ConvolutionOps.Convolution, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64) || i[0].Shape.Rank == 5)
            {
                OnCpu(ConvolutionOps.Convolution, a, c, i, o);
                return;
            }
            var d = a.Describe(i[0].Shape, i[1].Shape);
            TensorArg? bias = a.NoBias ? null : c.Contiguous(i[2]);
            GpuConvolution.Forward(Runtime(c), d, c.Contiguous(i[0]), c.Contiguous(i[1]), bias, o[0]);
            Epilogue.Apply(GpuElementwiseDriver.Instance, c, a.Activation, o[0]);
        });
        Register(ConvolutionOps.ConvolutionBackwardBias, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(ConvolutionOps.ConvolutionBackwardBias, a, c, i, o);
                return;
            }
            var s = i[0].Shape;
            var d = new ConvolutionDescriptor(s[0], s[1], 1, checked((int)s.SizeOf(2, s.Rank)), s[1], 1, 1);
            GpuConvolution.BackwardBias(Runtime(c), d, c.Contiguous(i[0]), o[0]);
        });
        Register(ConvolutionOps.ConvolutionBackwardData, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64) || i[0].Shape.Rank == 5)
            {
                OnCpu(ConvolutionOps.ConvolutionBackwardData, a, c, i, o);
                return;
            }
            var d = a.Conv.Describe(a.OtherShape.ToShape(), i[1].Shape);
            GpuConvolution.BackwardData(Runtime(c), d, c.Contiguous(i[0]), c.Contiguous(i[1]), o[0]);
        });
        Register(ConvolutionOps.ConvolutionBackwardWeight, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64) || i[0].Shape.Rank == 5)
            {
                OnCpu(ConvolutionOps.ConvolutionBackwardWeight, a, c, i, o);
                return;
            }
            var d = a.Conv.Describe(i[0].Shape, a.OtherShape.ToShape());
            GpuConvolution.BackwardWeight(Runtime(c), d, c.Contiguous(i[0]), c.Contiguous(i[1]), o[0]);
        });
    }
}
