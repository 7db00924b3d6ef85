using System.Numerics;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Memory;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterRecurrent()
    {
        Register(RecurrentOps.Rnn, static (a, c, i, o) =>
        {
            if (i[0].DType == DType.Float32) Rnn<float>(a, c, i, o);
            else Rnn<double>(a, c, i, o);
        });
        Register(RecurrentOps.RnnBackward, static (a, c, i, o) =>
        {
            if (i[0].DType == DType.Float32) RnnBackward<float>(a, c, i, o);
            else RnnBackward<double>(a, c, i, o);
        });
    }

    private static void Rnn<T>(RnnAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = a.Describe(i[0].Shape);
        var dense = i.Select(x => c.Contiguous(x)).ToArray();
        bool lstm = a.Mode == RnnMode.Lstm;
        var scratch = ((CpuBuffer)c.Scratch(d.ForwardScratch * i[0].DType.SizeInBytes())).AsSpan<T>();
        CpuRnn.Forward<T>(d, a.Training, a.Seed, a.Offset, dense[0].Elements<T>(), dense[1].Elements<T>(),
            dense[2].Elements<T>(), lstm ? dense[3].Elements<T>() : default, o[0].Elements<T>(), o[1].Elements<T>(),
            lstm ? o[2].Elements<T>() : default, o[3].Elements<T>(), scratch);
    }

    /// <summary>Inputs data, parameters, state, [state_cell], y, reserve, dy, dhy, [dcy].</summary>
    private static void RnnBackward<T>(RnnAttrs a, KernelContext c, TensorArg[] i, TensorArg[] o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = a.Describe(i[0].Shape);
        var dense = i.Select(x => c.Contiguous(x)).ToArray();
        bool lstm = a.Mode == RnnMode.Lstm;
        int k = lstm ? 4 : 3;
        var scratch = ((CpuBuffer)c.Scratch(d.BackwardScratch * i[0].DType.SizeInBytes())).AsSpan<T>();
        CpuRnn.Backward<T>(d, dense[0].Elements<T>(), dense[1].Elements<T>(), dense[2].Elements<T>(),
            lstm ? dense[3].Elements<T>() : default, dense[k].Elements<T>(), dense[k + 1].Elements<T>(),
            dense[k + 2].Elements<T>(), dense[k + 3].Elements<T>(), lstm ? dense[k + 4].Elements<T>() : default,
            o[0].Elements<T>(), o[1].Elements<T>(), o[2].Elements<T>(), lstm ? o[3].Elements<T>() : default,
            scratch);
    }
}
