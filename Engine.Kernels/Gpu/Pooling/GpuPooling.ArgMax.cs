using System.Numerics;
using Engine.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Max pooling that keeps each window's arg-max on the GPU, as <see cref="CpuPooling.ForwardWithArgMax{T}"/> and
/// <see cref="CpuPooling.BackwardFromArgMax{T}"/> define it: a byte per window, the winner's position over the
/// unclipped kernel or <see cref="CpuPooling.NoWinner"/>. Forward: one thread per output. Backward: one thread per
/// input element gathering the windows that cover it, in the CPU's order, so no atomics.
/// </summary>
public static partial class GpuPooling
{
    /// <summary>y = pool(x) and each window's winner; both overwritten.</summary>
    public static void ForwardWithArgMax(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x, in TensorArg y,
        in TensorArg argMax, bool reluMask)
    {
        ArgumentNullException.ThrowIfNull(desc);
        CheckArgMaxFits(desc);
        if (x.DType == DType.Float64) ForwardWithArgMax<double>(runtime, desc, x, y, argMax, reluMask);
        else ForwardWithArgMax<float>(runtime, desc, x, y, argMax, reluMask);
    }

    private static void ForwardWithArgMax<T>(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x,
        in TensorArg y, in TensorArg argMax, bool reluMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xv = Dense<T>(runtime, desc, x, desc.InputLength, "input x");
        var yv = Dense<T>(runtime, desc, y, desc.OutputLength, "output y");
        var iv = Dense<byte>(runtime, desc, argMax, desc.OutputLength, "arg-max indices");
        int n = (int)desc.OutputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<byte>, PoolGeometry, int, int>(
            ArgMaxForwardKernel<T>)(runtime.Stream, runtime.GridStride(n), xv, yv, iv, PoolGeometry.Of(desc),
            reluMask ? 1 : 0, n);
    }

    /// <summary>dx from the forward's arg-max indices and dy; dx overwritten.</summary>
    public static void BackwardFromArgMax(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg argMax,
        in TensorArg dy, in TensorArg dx)
    {
        ArgumentNullException.ThrowIfNull(desc);
        CheckArgMaxFits(desc);
        if (dy.DType == DType.Float64) BackwardFromArgMax<double>(runtime, desc, argMax, dy, dx);
        else BackwardFromArgMax<float>(runtime, desc, argMax, dy, dx);
    }

    private static void BackwardFromArgMax<T>(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg argMax,
        in TensorArg dy, in TensorArg dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var iv = Dense<byte>(runtime, desc, argMax, desc.OutputLength, "arg-max indices");
        var gv = Dense<T>(runtime, desc, dy, desc.OutputLength, "output gradient dy");
        var dv = Dense<T>(runtime, desc, dx, desc.InputLength, "input gradient dx");
        int n = (int)desc.InputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<byte>, ArrayView<T>, ArrayView<T>, PoolGeometry, int>(
            ArgMaxBackwardKernel<T>)(runtime.Stream, runtime.GridStride(n), iv, gv, dv, PoolGeometry.Of(desc), n);
    }

    private static void CheckArgMaxFits(PoolingDescriptor d)
    {
        if (!CpuPooling.FitsArgMax(d))
            throw new ArgumentException(
                $"{d.OpName}: {d} cannot keep its arg-max in a byte per window (max pooling with at most " +
                $"{CpuPooling.NoWinner} elements per window only); run the plain pooling backward, which reads x.");
    }

    private static void ArgMaxForwardKernel<T>(ArrayView<T> x, ArrayView<T> y, ArrayView<byte> argMax,
        PoolGeometry g, int reluMask, int total) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int ow = u % g.OW;
            int rest = u / g.OW;
            int oh = rest % g.OH;
            int plane = rest / g.OH * g.H * g.W;
            int best = g.ArgMax(x, plane, oh, ow);
            T max = best < 0 ? T.Zero : x[plane + best];
            y[u] = max;
            int winner = CpuPooling.NoWinner;
            // relu's backward zeroes x <= 0 (a NaN keeps its gradient).
            if (best >= 0 && (reluMask == 0 || !(max <= T.Zero)))
                winner = (best / g.W - (oh * g.SH - g.PH)) * g.KW + best % g.W - (ow * g.SW - g.PW);
            argMax[u] = (byte)winner;
        }
    }

    private static void ArgMaxBackwardKernel<T>(ArrayView<byte> argMax, ArrayView<T> dy, ArrayView<T> dx,
        PoolGeometry g, int total) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int w = u % g.W;
            int rest = u / g.W;
            int h = rest % g.H;
            int outPlane = rest / g.H * g.OH * g.OW;
            g.Covering(h, w, out int oh0, out int oh1, out int ow0, out int ow1);
            T sum = T.Zero;
            for (int oh = oh0; oh <= oh1; oh++)
            {
                for (int ow = ow0; ow <= ow1; ow++)
                {
                    int o = outPlane + oh * g.OW + ow, winner = argMax[o];
                    if (winner != CpuPooling.NoWinner && oh * g.SH - g.PH + winner / g.KW == h &&
                        ow * g.SW - g.PW + winner % g.KW == w)
                        sum += dy[o];
                }
            }
            dx[u] = sum;
        }
    }
}
