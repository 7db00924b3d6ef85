using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>
    /// Layer, instance and group norm have no GPU kernels yet: they run the CPU kernel on host copies
    /// (<see cref="OnCpu{TAttrs}(OpDef{TAttrs})"/>), correct on every GPU device but paying two transfers per call
    /// (docs/gpu.md lists them).
    /// </summary>
    private void RegisterSampleNorm()
    {
        Register(SampleNormOps.LayerNorm, OnCpu(SampleNormOps.LayerNorm));
        Register(SampleNormOps.InstanceNorm, OnCpu(SampleNormOps.InstanceNorm));
        Register(SampleNormOps.GroupNorm, OnCpu(SampleNormOps.GroupNorm));
        Register(SampleNormOps.LayerNormBackward, OnCpu(SampleNormOps.LayerNormBackward));
        Register(SampleNormOps.InstanceNormBackward, OnCpu(SampleNormOps.InstanceNormBackward));
        Register(SampleNormOps.GroupNormBackward, OnCpu(SampleNormOps.GroupNormBackward));
    }
}
