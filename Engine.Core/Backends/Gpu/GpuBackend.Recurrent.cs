using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    /// <summary>The fused RNN op (RNN, LSTM, GRU; layers, directions, dropout between layers) and its backward:
    /// GEMMs and fused cell kernels on the device, float32 and float64 (<see cref="GpuRnn"/>).</summary>
    private void RegisterRecurrent()
    {
        Register(RecurrentOps.Rnn, static (a, c, i, o) =>
        {
            if (i[0].DType == DType.Float64) Rnn<double>(a, c, i, o);
            else Rnn<float>(a, c, i, o);
        });
        Register(RecurrentOps.RnnBackward, static (a, c, i, o) =>
        {
            if (i[0].DType == DType.Float64) RnnBackward<double>(a, c, i, o);
            else RnnBackward<float>(a, c, i, o);
        });
    }

    private static TensorArg RnnScratch(KernelContext c, long elements, DType dtype) =>
        new(c.Scratch(elements * dtype.SizeInBytes()), TensorLayout.Contiguous(new Shape(checked((int)elements))),
            dtype);

    private static void Rnn<T>(RnnAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var d = a.Describe(i[0].Shape);
        var dense = i.Select(x => c.Contiguous(x)).ToArray();
        bool lstm = a.Mode == RnnMode.Lstm;
        GpuRnn.Forward<T>(Runtime(c), d, a.Training, a.Seed, a.Offset, dense[0], dense[1], dense[2],
            lstm ? dense[3] : dense[2], o[0], o[1], o[2], o[3], RnnScratch(c, d.ForwardScratch, i[0].DType));
    }

    /// <summary>Inputs data, parameters, state, [state_cell], y, reserve, dy, dhy, [dcy].</summary>
    private static void RnnBackward<T>(RnnAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var d = a.Describe(i[0].Shape);
        var dense = i.Select(x => c.Contiguous(x)).ToArray();
        bool lstm = a.Mode == RnnMode.Lstm;
        int k = lstm ? 4 : 3;
        GpuRnn.Backward<T>(Runtime(c), d, dense[0], dense[1], dense[2], lstm ? dense[3] : dense[2], dense[k],
            dense[k + 1], dense[k + 2], dense[k + 3], lstm ? dense[k + 4] : dense[k + 3], o[0], o[1], o[2],
            lstm ? o[3] : o[2], RnnScratch(c, d.BackwardScratch, i[0].DType));
    }
}
