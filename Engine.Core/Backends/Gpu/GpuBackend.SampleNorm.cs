using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>Layer, instance and group norm: one kernel family over the (outer, length, inner) view.</summary>
    private void RegisterSampleNorm()
    {
        Register(SampleNormOps.LayerNorm, static (a, c, i, o) => SampleNorm(a, c, i, o));
        Register(SampleNormOps.InstanceNorm, static (a, c, i, o) => SampleNorm(a, c, i, o));
        Register(SampleNormOps.GroupNorm, static (a, c, i, o) => SampleNorm(a, c, i, o));
        Register(SampleNormOps.LayerNormBackward, static (a, c, i, o) => SampleNormBackward(a, c, i, o));
        Register(SampleNormOps.InstanceNormBackward, static (a, c, i, o) => SampleNormBackward(a, c, i, o));
        Register(SampleNormOps.GroupNormBackward, static (a, c, i, o) => SampleNormBackward(a, c, i, o));
    }

    private static void SampleNorm(SampleNormAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o) =>
        GpuSampleNorm.Forward(Runtime(c), a.Describe(i[0].Shape), c.Contiguous(i[0]), c.Contiguous(i[1]),
            c.Contiguous(i[2]), o[0], o[1], o[2]);

    /// <summary>Inputs x, dy, gamma, saved mean (unused: the mean is taken again in double), saved std.</summary>
    private static void SampleNormBackward(SampleNormAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o) =>
        GpuSampleNorm.Backward(Runtime(c), a.Describe(i[0].Shape), c.Contiguous(i[0]), c.Contiguous(i[1]),
            c.Contiguous(i[2]), c.Contiguous(i[4]), o[0], o[1], o[2]);
}
