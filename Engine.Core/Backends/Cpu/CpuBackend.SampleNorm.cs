using System.Numerics;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>Layer, instance and group norm: one kernel over the (outer, length, inner) view.</summary>
    private void RegisterSampleNorm()
    {
        Register(SampleNormOps.LayerNorm, static (a, c, i, o) => SampleNorm(a, c, i, o));
        Register(SampleNormOps.InstanceNorm, static (a, c, i, o) => SampleNorm(a, c, i, o));
        Register(SampleNormOps.GroupNorm, static (a, c, i, o) => SampleNorm(a, c, i, o));
        Register(SampleNormOps.LayerNormBackward, static (a, c, i, o) => SampleNormBackward(a, c, i, o));
        Register(SampleNormOps.InstanceNormBackward, static (a, c, i, o) => SampleNormBackward(a, c, i, o));
        Register(SampleNormOps.GroupNormBackward, static (a, c, i, o) => SampleNormBackward(a, c, i, o));
    }

    private static void SampleNorm(SampleNormAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o)
    {
        var d = a.Describe(i[0].Shape);
        var x = c.Contiguous(i[0]);
        if (x.DType == DType.Float32) SampleNorm<float>(d, c, x, i, o);
        else SampleNorm<double>(d, c, x, i, o);
    }

    private static void SampleNorm<T>(SampleNormDescriptor d, KernelContext c, in TensorArg x, TensorArg[] i,
        TensorArg[] o) where T : unmanaged, IFloatingPointIeee754<T> =>
        CpuSampleNorm.Forward(d, x.Span<T>(), c.Contiguous(i[1]).Span<T>(), c.Contiguous(i[2]).Span<T>(),
            o[0].Span<T>(), o[1].Span<T>(), o[2].Span<T>());

    private static void SampleNormBackward(SampleNormAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o)
    {
        var d = a.Describe(i[0].Shape);
        var dense = i.Select(t => c.Contiguous(t)).ToArray();
        if (dense[0].DType == DType.Float32) SampleNormBackward<float>(d, dense, o);
        else SampleNormBackward<double>(d, dense, o);
    }

    private static void SampleNormBackward<T>(SampleNormDescriptor d, TensorArg[] i, TensorArg[] o)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CpuSampleNorm.Backward(d, i[0].Span<T>(), i[1].Span<T>(), i[2].Span<T>(), i[3].Span<T>(), i[4].Span<T>(),
            o[0].Span<T>(), o[1].Span<T>(), o[2].Span<T>());
}
