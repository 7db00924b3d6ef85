using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterLinearAlgebra()
    {
        Register(LinearAlgebraOps.Dot, static (a, c, i, o) =>
            Gemm(c, a.TransposeA, a.TransposeB, i[0], i[1], o[0], batch: 1));
        Register(LinearAlgebraOps.BatchDot, static (a, c, i, o) =>
            Gemm(c, a.TransposeA, a.TransposeB, i[0], i[1], o[0], batch: i[0].Shape[0]));
        Register(LinearAlgebraOps.FullyConnected, static (a, c, i, o) =>
        {
            var (rows, inUnits) = LinearAlgebraOps.FlattenedDims(a, i[0].Shape);
            var x = c.Contiguous(i[0]);
            var w = c.Contiguous(i[1]);
            var b = a.NoBias ? default : c.Contiguous(i[2]);
            if (x.DType == DType.Float32)
                CpuFullyConnected.Forward(rows, inUnits, a.NumHidden, x.Span<float>(), w.Span<float>(),
                    a.NoBias ? default : b.Span<float>(), o[0].Span<float>());
            else
                CpuFullyConnected.Forward(rows, inUnits, a.NumHidden, x.Span<double>(), w.Span<double>(),
                    a.NoBias ? default : b.Span<double>(), o[0].Span<double>());
            Epilogue.Apply(CpuElementwiseDriver.Instance, c, a.Activation, o[0]);
        });
    }

    /// <summary>Runs (batched) GEMM on dense copies of the operands.</summary>
    private static void Gemm(KernelContext context, bool ta, bool tb, in TensorArg aIn, in TensorArg bIn,
        in TensorArg y, int batch)
    {
        var a = context.Contiguous(aIn);
        var b = context.Contiguous(bIn);
        int ar = a.Shape[^2], ac = a.Shape[^1], br = b.Shape[^2], bc = b.Shape[^1];
        int m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
        if (a.DType == DType.Float32)
            CpuGemm.BatchedGemm(batch, ta, tb, m, n, k, 1f, a.Span<float>(), (long)ar * ac, b.Span<float>(),
                (long)br * bc, 0f, y.Span<float>(), (long)m * n);
        else
            CpuGemm.BatchedGemm(batch, ta, tb, m, n, k, 1.0, a.Span<double>(), (long)ar * ac, b.Span<double>(),
                (long)br * bc, 0.0, y.Span<double>(), (long)m * n);
    }
}
