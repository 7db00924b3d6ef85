using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterPooling()
    {
        Register(PoolingOps.Pooling, static (a, c, i, o) =>
        {
            if (i[0].Shape.Rank == 5)
            {
                var d3 = a.Describe3D(i[0].Shape);
                var x3 = c.Contiguous(i[0]);
                if (x3.DType == DType.Float32) CpuPooling3D.Forward(d3, x3.Span<float>(), o[0].Span<float>());
                else CpuPooling3D.Forward(d3, x3.Span<double>(), o[0].Span<double>());
                return;
            }
            var d = a.Describe(i[0].Shape);
            var x = c.Contiguous(i[0]);
            if (x.DType == DType.Float32) CpuPooling.Forward(d, x.Span<float>(), o[0].Span<float>());
            else CpuPooling.Forward(d, x.Span<double>(), o[0].Span<double>());
        });
        Register(PoolingOps.PoolingBackward, static (a, c, i, o) =>
        {
            var x = c.Contiguous(i[0]);
            var y = c.Contiguous(i[1]);
            var dy = c.Contiguous(i[2]);
            if (x.Shape.Rank == 5)
            {
                var d3 = a.Describe3D(x.Shape);
                if (x.DType == DType.Float32)
                    CpuPooling3D.Backward(d3, x.Span<float>(), y.Span<float>(), dy.Span<float>(), o[0].Span<float>());
                else
                    CpuPooling3D.Backward(d3, x.Span<double>(), y.Span<double>(), dy.Span<double>(),
                        o[0].Span<double>());
                return;
            }
            var d = a.Describe(i[0].Shape);
            if (x.DType == DType.Float32)
                CpuPooling.Backward(d, x.Span<float>(), y.Span<float>(), dy.Span<float>(), o[0].Span<float>(),
                    a.ReluMask);
            else
                CpuPooling.Backward(d, x.Span<double>(), y.Span<double>(), dy.Span<double>(), o[0].Span<double>(),
                    a.ReluMask);
        });
        Register(PoolingOps.PoolingArgMax, static (a, c, i, o) =>
        {
            var d = a.Describe(i[0].Shape);
            var x = c.Contiguous(i[0]);
            if (x.DType == DType.Float32)
                CpuPooling.ForwardWithArgMax(d, x.Span<float>(), o[0].Span<float>(), o[1].Span<byte>(), a.ReluMask);
            else
                CpuPooling.ForwardWithArgMax(d, x.Span<double>(), o[0].Span<double>(), o[1].Span<byte>(),
                    a.ReluMask);
        });
        Register(PoolingOps.PoolingArgMaxBackward, static (a, c, i, o) =>
        {
            var d = a.Pooling.Describe(new Shape(a.InputShape));
            var argMax = c.Contiguous(i[0]);
            var dy = c.Contiguous(i[1]);
            if (dy.DType == DType.Float32)
                CpuPooling.BackwardFromArgMax(d, argMax.Span<byte>(), dy.Span<float>(), o[0].Span<float>());
            else CpuPooling.BackwardFromArgMax(d, argMax.Span<byte>(), dy.Span<double>(), o[0].Span<double>());
        });
    }
}
