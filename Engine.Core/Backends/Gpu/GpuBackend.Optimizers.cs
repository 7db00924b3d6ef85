using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterOptimizers()
    {
        Register(OptimizerOps.SgdUpdate, static (a, c, i, _) =>
            GpuOptimizers.Sgd(Runtime(c), i[0], i[1], null, (float)a.RescaleGrad, (float)a.Lr, (float)a.Wd, 0,
                (float)Math.Max(a.ClipGradient, 0)));
        Register(OptimizerOps.SgdMomUpdate, static (a, c, i, _) =>
            GpuOptimizers.Sgd(Runtime(c), i[0], i[1], i[2], (float)a.RescaleGrad, (float)a.Lr, (float)a.Wd,
                (float)a.Momentum, (float)Math.Max(a.ClipGradient, 0)));
        Register(OptimizerOps.AdamUpdate, static (a, c, i, _) =>
            GpuOptimizers.Adam(Runtime(c), i[0], i[1], i[2], i[3], (float)a.RescaleGrad, (float)a.Wd, (float)a.Beta1,
                (float)a.Beta2, (float)a.Lr, (float)a.Epsilon, (float)Math.Max(a.ClipGradient, 0)));
    }
}
