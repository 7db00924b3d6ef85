using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    // 1-D, 2-D (GpuConvolution) and 3-D (GpuConvolution3D) convolutions; a transposed convolution is the data
    // gradient of the convolution from its output back to its input, as on the CPU.
    private void RegisterConvolution()
    {
        // The op admits float32 and float64 only (ShapeRules.RequireFloat), both of which the kernels cover.
        Register(DeconvolutionOps.Deconvolution, static (a, c, i, o) =>
        {
            var conv = a.Convolution(i[0].Shape, i[1].Shape);
            var y = o[0];
            TensorArg? bias = a.NoBias ? null : c.Contiguous(i[2]);
            var x = c.Contiguous(i[0]);
            var w = c.Contiguous(i[1]);
            if (y.Shape.Rank == 5)
                GpuConvolution3D.BackwardData(Runtime(c), conv.Describe3D(y.Shape, i[1].Shape), x, w, y, bias);
            else GpuConvolution.BackwardData(Runtime(c), conv.Describe(y.Shape, i[1].Shape), x, w, y, bias);
        });
        Register(ConvolutionOps.Convolution, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(ConvolutionOps.Convolution, a, c, i, o);
                return;
            }
            TensorArg? bias = a.NoBias ? null : c.Contiguous(i[2]);
            if (i[0].Shape.Rank == 5)
                GpuConvolution3D.Forward(Runtime(c), a.Describe3D(i[0].Shape, i[1].Shape), c.Contiguous(i[0]),
                    c.Contiguous(i[1]), bias, o[0]);
            else
                GpuConvolution.Forward(Runtime(c), a.Describe(i[0].Shape, i[1].Shape), c.Contiguous(i[0]),
                    c.Contiguous(i[1]), bias, o[0]);
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
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(ConvolutionOps.ConvolutionBackwardData, a, c, i, o);
                return;
            }
            var x = a.OtherShape.ToShape();
            if (x.Rank == 5)
                GpuConvolution3D.BackwardData(Runtime(c), a.Conv.Describe3D(x, i[1].Shape), c.Contiguous(i[0]),
                    c.Contiguous(i[1]), o[0]);
            else
                GpuConvolution.BackwardData(Runtime(c), a.Conv.Describe(x, i[1].Shape), c.Contiguous(i[0]),
                    c.Contiguous(i[1]), o[0]);
        });
        Register(ConvolutionOps.ConvolutionBackwardWeight, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(ConvolutionOps.ConvolutionBackwardWeight, a, c, i, o);
                return;
            }
            var w = a.OtherShape.ToShape();
            if (i[0].Shape.Rank == 5)
                GpuConvolution3D.BackwardWeight(Runtime(c), a.Conv.Describe3D(i[0].Shape, w), c.Contiguous(i[0]),
                    c.Contiguous(i[1]), o[0]);
            else
                GpuConvolution.BackwardWeight(Runtime(c), a.Conv.Describe(i[0].Shape, w), c.Contiguous(i[0]),
                    c.Contiguous(i[1]), o[0]);
        });
    }
}
