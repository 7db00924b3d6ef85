using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterRandom()
    {
        Register(RandomOps.Dropout, static (a, c, i, o) =>
        {
            var x = c.Contiguous(i[0]);
            bool active = a.Training && a.P > 0;
            if (x.DType == DType.Float32)
                CpuDropout.Forward(active, a.Seed, a.Offset, 1 - a.P, x.Span<float>(), o[1].Span<float>(),
                    o[0].Span<float>());
            else
                CpuDropout.Forward(active, a.Seed, a.Offset, 1 - a.P, x.Span<double>(), o[1].Span<double>(),
                    o[0].Span<double>());
        });
        Register(RandomOps.Random, static (a, _, _, o) =>
        {
            var y = o[0];
            switch (a.Distribution, y.DType == DType.Float32)
            {
                case (Distribution.Uniform, true):
                    CpuRandom.Uniform(a.Seed, a.Offset, (float)a.A, (float)a.B, y.Span<float>());
                    break;
                case (Distribution.Uniform, false):
                    CpuRandom.Uniform(a.Seed, a.Offset, a.A, a.B, y.Span<double>());
                    break;
                case (Distribution.Normal, true):
                    CpuRandom.Normal(a.Seed, a.Offset, (float)a.A, (float)a.B, y.Span<float>());
                    break;
                default:
                    CpuRandom.Normal(a.Seed, a.Offset, a.A, a.B, y.Span<double>());
                    break;
            }
        });
    }
}
