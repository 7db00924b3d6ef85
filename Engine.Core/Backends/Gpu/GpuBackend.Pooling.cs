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
            if (i[0].Shape.Rank == 5)
                GpuPooling3D.Backward(Runtime(c), a.Describe3D(i[0].Shape), c.Contiguous(i[0]), c.Contiguous(i[2]),
                    o[0]);
            else
                GpuPooling.Backward(Runtime(c), a.Describe(i[0].Shape), c.Contiguous(i[0]), c.Contiguous(i[2]),
                    o[0]);
        });
    }
}
