using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterConvolution()
    {
        RegisterDeconvolution();
        Register(ConvolutionOps.Convolution, static (a, c, i, o) =>
        {
            if (i[0].Shape.Rank == 5)
            {
                Forward3D(a.Describe3D(i[0].Shape, i[1].Shape), c, i[0], i[1], a.NoBias ? null : i[2], o[0]);
                Epilogue.Apply(CpuElementwiseDriver.Instance, c, a.Activation, o[0]);
                return;
            }
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
            if (a.OtherShape.Length == 5)
            {
                BackwardData3D(a.Conv.Describe3D(a.OtherShape.ToShape(), i[1].Shape), c, i[0], i[1], o[0]);
                return;
            }
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
            if (i[0].Shape.Rank == 5)
            {
                var d3 = a.Conv.Describe3D(i[0].Shape, a.OtherShape.ToShape());
                var x3 = c.Contiguous(i[0]);
                var dy3 = c.Contiguous(i[1]);
                if (x3.DType == DType.Float32)
                    CpuConvolution3D.BackwardWeight(d3, x3.Span<float>(), dy3.Span<float>(), o[0].Span<float>());
                else
                    CpuConvolution3D.BackwardWeight(d3, x3.Span<double>(), dy3.Span<double>(), o[0].Span<double>());
                return;
            }
            var d = a.Conv.Describe(i[0].Shape, a.OtherShape.ToShape());
            var x = c.Contiguous(i[0]);
            var dy = c.Contiguous(i[1]);
            if (x.DType == DType.Float32)
                CpuConvolution.BackwardWeight(d, x.Span<float>(), dy.Span<float>(), o[0].Span<float>());
            else
                CpuConvolution.BackwardWeight(d, x.Span<double>(), dy.Span<double>(), o[0].Span<double>());
        });
    }

    // A transposed convolution is the data gradient of the convolution from its output back to its input.
    private void RegisterDeconvolution()
    {
        Register(DeconvolutionOps.Deconvolution, static (a, c, i, o) =>
        {
            var conv = a.Convolution(i[0].Shape, i[1].Shape);
            var y = o[0];
            if (y.Shape.Rank == 5) BackwardData3D(conv.Describe3D(y.Shape, i[1].Shape), c, i[0], i[1], y);
            else
            {
                var d = conv.Describe(y.Shape, i[1].Shape);
                var x = c.Contiguous(i[0]);
                var w = c.Contiguous(i[1]);
                if (x.DType == DType.Float32)
                    CpuConvolution.BackwardData(d, x.Span<float>(), w.Span<float>(), y.Span<float>());
                else
                    CpuConvolution.BackwardData(d, x.Span<double>(), w.Span<double>(), y.Span<double>());
            }
            if (a.NoBias) return;
            var b = c.Contiguous(i[2]);
            long plane = y.Shape.SizeOf(2, y.Shape.Rank);
            if (y.DType == DType.Float32)
                CpuChannelBias.Add(y.Shape[0], y.Shape[1], plane, b.Span<float>(), y.Span<float>());
            else
                CpuChannelBias.Add(y.Shape[0], y.Shape[1], plane, b.Span<double>(), y.Span<double>());
        });
    }

    private static void Forward3D(Convolution3DDescriptor d, KernelContext c, in TensorArg data, in TensorArg weight,
        TensorArg? bias, in TensorArg y)
    {
        var x = c.Contiguous(data);
        var w = c.Contiguous(weight);
        TensorArg? b = bias is { } given ? c.Contiguous(given) : null;
        if (x.DType == DType.Float32)
            CpuConvolution3D.Forward(d, x.Span<float>(), w.Span<float>(), b is { } bf ? bf.Span<float>() : default,
                y.Span<float>());
        else
            CpuConvolution3D.Forward(d, x.Span<double>(), w.Span<double>(),
                b is { } bd ? bd.Span<double>() : default, y.Span<double>());
    }

    private static void BackwardData3D(Convolution3DDescriptor d, KernelContext c, in TensorArg gradient,
        in TensorArg weight, in TensorArg dx)
    {
        var dy = c.Contiguous(gradient);
        var w = c.Contiguous(weight);
        if (dy.DType == DType.Float32)
            CpuConvolution3D.BackwardData(d, dy.Span<float>(), w.Span<float>(), dx.Span<float>());
        else
            CpuConvolution3D.BackwardData(d, dy.Span<double>(), w.Span<double>(), dx.Span<double>());
    }
}
