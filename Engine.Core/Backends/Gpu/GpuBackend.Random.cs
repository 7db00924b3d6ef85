using Engine.Kernels;
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
        Register(RandomOps.Random, static (a, c, _, o) =>
        {
            var rt = Runtime(c);
            var y = o[0];
            if (y.IsContiguous)
            {
                RandomValues(rt, a, y);
                return;
            }
            // A strided output: the values of the dense stream, then copied into the layout (element i of the
            // stream is the i-th element in row-major order, as on the CPU). The temporary is the output in
            // another form, not working memory, so it comes from the pool (ordered on the stream).
            using var dense = c.Runtime.Allocate(y.Size * y.DType.SizeInBytes());
            var arg = new TensorArg(dense, TensorLayout.Contiguous(y.Shape), y.DType);
            RandomValues(rt, a, arg);
            c.Runtime.Copy(arg, y);
        });
    }

    private static void RandomValues(GpuRuntime rt, RandomAttrs a, in TensorArg y)
    {
        switch (a.Distribution, y.DType == DType.Float32)
        {
            case (Distribution.Uniform, true):
                GpuRandom.Uniform(rt, a.Seed, a.Offset, (float)a.A, (float)a.B, y);
                break;
            case (Distribution.Uniform, false):
                GpuRandom.Uniform(rt, a.Seed, a.Offset, a.A, a.B, y);
                break;
            case (Distribution.Normal, true):
                GpuRandom.Normal(rt, a.Seed, a.Offset, (float)a.A, (float)a.B, y);
                break;
            default:
                GpuRandom.Normal(rt, a.Seed, a.Offset, a.A, a.B, y);
                break;
        }
    }
}
