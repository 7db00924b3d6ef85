using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterRandom()
    {
        Register(RandomOps.Dropout, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(RandomOps.Dropout, a, c, i, o);
                return;
            }
            var rt = Runtime(c);
            var x = c.Contiguous(i[0]);
            if (!(a.Training && a.P > 0))
            {
                // Inference (or p = 0): y is x and the mask ones; no random numbers are drawn.
                c.Runtime.Copy(x, o[0]);
                if (x.DType == DType.Float32) GpuLayout.Fill(rt, o[1], 1f);
                else GpuLayout.Fill(rt, o[1], 1.0);
                return;
            }
            GpuRandom.DropoutMask(rt, a.Seed, a.Offset, 1 - a.P, o[1]);
            if (x.DType == DType.Float32)
                GpuElementwiseDriver.Instance.Binary<MultiplyOperator<float>, float>(c, default, x, o[1], o[0]);
            else
                GpuElementwiseDriver.Instance.Binary<MultiplyOperator<double>, double>(c, default, x, o[1], o[0]);
        });
        Register(RandomOps.Random, static (a, c, i, o) =>
        {
            var y = o[0];
            if (y.DType != DType.Float32 || !y.IsContiguous)
            {
                OnCpu(RandomOps.Random, a, c, i, o);
                return;
            }
            if (a.Distribution == Distribution.Uniform)
                GpuRandom.Uniform(Runtime(c), a.Seed, a.Offset, (float)a.A, (float)a.B, y);
            else
                GpuRandom.Normal(Runtime(c), a.Seed, a.Offset, (float)a.A, (float)a.B, y);
        });
    }
}
