using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterPooling()
    {
        Register(PoolingOps.Pooling, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(PoolingOps.Pooling, a, c, i, o);
                return;
            }
            if (i[0].Shape.Rank == 5)
                GpuPooling3D.Forward(Runtime(c), a.Describe3D(i[0].Shape), c.Contiguous(i[0]), o[0]);
            else GpuPooling.Forward(Runtime(c), a.Describe(i[0].Shape), c.Contiguous(i[0]), o[0]);
        });
        Register(PoolingOps.PoolingBackward, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(PoolingOps.PoolingBackward, a, c, i, o);
                return;
            }
            var x = c.Contiguous(i[0]);
            if (i[0].Shape.Rank == 5)
                GpuPooling3D.Backward(Runtime(c), a.Describe3D(i[0].Shape), x, c.Contiguous(i[2]), o[0]);
            else GpuPooling.Backward(Runtime(c), a.Describe(i[0].Shape), x, c.Contiguous(i[2]), o[0]);
            if (!a.ReluMask) return;
            // The relu's backward over dx in place (a second pass; the CPU masks each plane as it is written).
            if (x.DType == DType.Float32)
                GpuElementwiseDriver.Instance.Binary<ReluBackwardOperator<float>, float>(c, default, x, o[0], o[0]);
            else
                GpuElementwiseDriver.Instance.Binary<ReluBackwardOperator<double>, double>(c, default, x, o[0], o[0]);
        });
        Register(PoolingOps.PoolingArgMax, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(PoolingOps.PoolingArgMax, a, c, i, o);
                return;
            }
            GpuPooling.ForwardWithArgMax(Runtime(c), a.Describe(i[0].Shape), c.Contiguous(i[0]), o[0], o[1],
                a.ReluMask);
        });
        Register(PoolingOps.PoolingArgMaxBackward, static (a, c, i, o) =>
        {
            if (i[1].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(PoolingOps.PoolingArgMaxBackward, a, c, i, o);
                return;
            }
            GpuPooling.BackwardFromArgMax(Runtime(c), a.Pooling.Describe(new Shape(a.InputShape)),
                c.Contiguous(i[0]), c.Contiguous(i[1]), o[0]);
        });
    }
}
