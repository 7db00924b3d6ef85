using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterOptimizers()
    {
        Register(OptimizerOps.SgdUpdate, static (a, _, i, _) =>
            CpuOptimizers.Sgd(i[0].Elements<float>(), i[1].Elements<float>(), default, (float)a.RescaleGrad,
                (float)a.Lr, (float)a.Wd, 0, (float)Math.Max(a.ClipGradient, 0)));
        Register(OptimizerOps.SgdMomUpdate, static (a, _, i, _) =>
            CpuOptimizers.Sgd(i[0].Elements<float>(), i[1].Elements<float>(), i[2].Elements<float>(),
                (float)a.RescaleGrad, (float)a.Lr, (float)a.Wd, (float)a.Momentum, (float)Math.Max(a.ClipGradient, 0)));
        Register(OptimizerOps.AdamUpdate, static (a, _, i, _) =>
            CpuOptimizers.Adam(i[0].Elements<float>(), i[1].Elements<float>(), i[2].Elements<float>(),
                i[3].Elements<float>(), (float)a.RescaleGrad, (float)a.Wd, (float)a.Beta1, (float)a.Beta2,
                (float)a.Lr, (float)a.Epsilon, (float)Math.Max(a.ClipGradient, 0)));
    }
}
