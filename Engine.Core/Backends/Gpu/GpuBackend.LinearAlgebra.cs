using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterLinearAlgebra()
    {
        Register(LinearAlgebraOps.Dot, static (a, c, i, o) =>
            Gemm(c, a.TransposeA, a.TransposeB, i[0], i[1], o[0], batch: 1));
        Register(LinearAlgebraOps.BatchDot, static (a, c, i, o) =>
            Gemm(c, a.TransposeA, a.TransposeB, i[0], i[1], o[0], batch: i[0].Shape[0]));
        Register(LinearAlgebraOps.FullyConnected, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(LinearAlgebraOps.FullyConnected, a, c, i, o);
                return;
            }
            var (rows, inUnits) = LinearAlgebraOps.FlattenedDims(a, i[0].Shape);
            var x = c.Contiguous(i[0]);
            var w = c.Contiguous(i[1]);
            var y = o[0];
            bool addTo = false;
            if (!a.NoBias)
            {
                // y = bias broadcast over the rows, then the product accumulated onto it (beta = 1).
                var b = i[2];
                var rowsOfBias = new TensorLayout(new Shape(rows, a.NumHidden), [0, b.Layout.Strides[0]], b.Offset);
                c.Runtime.Copy(b.WithLayout(rowsOfBias),
                    y.WithLayout(TensorLayout.Contiguous(new Shape(rows, a.NumHidden))));
                addTo = true;
            }
            if (x.DType == DType.Float64)
                GpuGemm.Gemm(Runtime(c), false, true, rows, a.NumHidden, inUnits, 1.0, x, inUnits, w, inUnits,
                    addTo ? 1.0 : 0.0, y, a.NumHidden);
            else
                GpuGemm.Gemm(Runtime(c), false, true, rows, a.NumHidden, inUnits, 1f, x, inUnits, w, inUnits,
                    addTo ? 1f : 0f, y, a.NumHidden);
            Epilogue.Apply(GpuElementwiseDriver.Instance, c, a.Activation, y);
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
        var rt = Runtime(context);
        if (a.DType == DType.Float32)
            GpuGemm.BatchedGemm(rt, batch, ta, tb, m, n, k, 1f, a, (long)ar * ac, ac, b, (long)br * bc, bc, 0f, y,
                (long)m * n, n);
        else
            GpuGemm.BatchedGemm(rt, batch, ta, tb, m, n, k, 1.0, a, (long)ar * ac, ac, b, (long)br * bc, bc, 0.0, y,
                (long)m * n, n);
    }
}
