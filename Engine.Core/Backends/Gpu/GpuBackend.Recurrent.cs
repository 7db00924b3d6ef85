using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>
    /// The fused RNN op has no GPU kernel yet: it runs the CPU kernel on host copies (correct, but it synchronises
    /// and copies every call; docs/gpu.md lists it).
    /// </summary>
    private void RegisterRecurrent()
    {
        Register(RecurrentOps.Rnn, OnCpu(RecurrentOps.Rnn));
        Register(RecurrentOps.RnnBackward, OnCpu(RecurrentOps.RnnBackward));
    }
}
