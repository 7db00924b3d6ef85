using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// 3-D max and average pooling on the GPU (float32 and float64, one generic kernel each; NCDHW, valid and full
/// conventions, padding counted or not, global), with the rules of <see cref="GpuPooling"/> and the CPU's
/// <c>CpuPooling3D</c>: padding never wins a max, NaN propagates, a window's gradient goes to its first maximal
/// element in (d, h, w) order (its first NaN), a full-convention window past the input pools nothing. Forward: one
/// thread per output. Backward: one thread per input element gathering the windows that cover it (no atomics; the
/// windows are summed in the CPU's order).
/// </summary>
public static class GpuPooling3D
{
    /// <summary>y = pool(x); y overwritten.</summary>
    public static void Forward(GpuRuntime runtime, Pooling3DDescriptor desc, in TensorArg x, in TensorArg y)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64) Forward<double, DoubleReal>(runtime, desc, x, y);
        else Forward<float, FloatReal>(runtime, desc, x, y);
    }

    private static void Forward<T, TReal>(GpuRuntime runtime, Pooling3DDescriptor desc, in TensorArg x,
        in TensorArg y) where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var xv = Dense<T>(runtime, desc, x, desc.InputLength, "input x");
        var yv = Dense<T>(runtime, desc, y, desc.OutputLength, "output y");
        int n = (int)desc.OutputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, Pool3DGeometry, TReal, int>(ForwardKernel<T, TReal>)(
            runtime.Stream, runtime.GridStride(n), xv, yv, Pool3DGeometry.Of(desc), default, n);
    }

    /// <summary>dx from x (max pooling recomputes each window's arg-max) and dy; dx overwritten.</summary>
    public static void Backward(GpuRuntime runtime, Pooling3DDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg dx)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64) Backward<double, DoubleReal>(runtime, desc, x, dy, dx);
        else Backward<float, FloatReal>(runtime, desc, x, dy, dx);
    }

    private static void Backward<T, TReal>(GpuRuntime runtime, Pooling3DDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg dx)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var xv = Dense<T>(runtime, desc, x, desc.InputLength, "input x");
        var gv = Dense<T>(runtime, desc, dy, desc.OutputLength, "output gradient dy");
        var dv = Dense<T>(runtime, desc, dx, desc.InputLength, "input gradient dx");
        int n = (int)desc.InputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, Pool3DGeometry, TReal, int>(
            BackwardKernel<T, TReal>)(runtime.Stream, runtime.GridStride(n), xv, gv, dv, Pool3DGeometry.Of(desc),
            default, n);
    }

    private static ArrayView<T> Dense<T>(GpuRuntime runtime, Pooling3DDescriptor d, in TensorArg x, long length,
        string what) where T : unmanaged
    {
        if (x.Size != length)
            throw new ArgumentException(
                $"{d.OpName}: {what} has {x.Size} elements but {d} needs {length}; pass an array of that size.");
        return x.Elements<T>(runtime, d.OpName);
    }

    /// <summary>The descriptor's numbers as scalar fields.</summary>
    public struct Pool3DGeometry
    {
        public int D, H, W, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, IsMax, CountIncludePad;

        internal static Pool3DGeometry Of(Pooling3DDescriptor d) => new()
        {
            D = d.Input.D, H = d.Input.H, W = d.Input.W, OD = d.Output.D, OH = d.Output.H, OW = d.Output.W,
            KD = d.Kernel.D, KH = d.Kernel.H, KW = d.Kernel.W, SD = d.Stride.D, SH = d.Stride.H, SW = d.Stride.W,
            PD = d.Pad.D, PH = d.Pad.H, PW = d.Pad.W, IsMax = d.Mode == PoolingMode.Max ? 1 : 0,
            CountIncludePad = d.CountIncludePad ? 1 : 0,
        };

        /// <summary>A window's clipped range [start, end) and its extent including padding.</summary>
        public static void Range(int o, int stride, int pad, int kernel, int size, out int start, out int end,
            out int padded)
        {
            int s = o * stride - pad;
            int paddedEnd = s + kernel < size + pad ? s + kernel : size + pad;
            start = s > 0 ? s : 0;
            end = paddedEnd < size ? paddedEnd : size;
            padded = paddedEnd - s;
        }

        /// <summary>
        /// Index in the volume of window (od, oh, ow)'s first maximum in (d, h, w) order (its first NaN), or -1 when
        /// the window holds no input element.
        /// </summary>
        public readonly int ArgMax<T>(ArrayView<T> x, int volume, int od, int oh, int ow)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Range(od, SD, PD, KD, D, out int ds, out int de, out _);
            Range(oh, SH, PH, KH, H, out int hs, out int he, out _);
            Range(ow, SW, PW, KW, W, out int ws, out int we, out _);
            if (ds >= de || hs >= he || ws >= we) return -1;
            int best = (ds * H + hs) * W + ws;
            T max = x[volume + best];
            if (T.IsNaN(max)) return best;
            for (int d = ds; d < de; d++)
            {
                for (int h = hs; h < he; h++)
                {
                    int row = (d * H + h) * W;
                    for (int w = ws; w < we; w++)
                    {
                        T v = x[volume + row + w];
                        if (T.IsNaN(v)) return row + w;
                        if (v > max)
                        {
                            max = v;
                            best = row + w;
                        }
                    }
                }
            }
            return best;
        }

        /// <summary>The divisor of an average window.</summary>
        public readonly int Count(int od, int oh, int ow)
        {
            Range(od, SD, PD, KD, D, out int ds, out int de, out int dp);
            Range(oh, SH, PH, KH, H, out int hs, out int he, out int hp);
            Range(ow, SW, PW, KW, W, out int ws, out int we, out int wp);
            return CountIncludePad != 0 ? dp * hp * wp : (de - ds) * (he - hs) * (we - ws);
        }

        /// <summary>Output windows [lo, hi] along one axis whose (unclipped) span covers input index i.</summary>
        public static void Covering(int i, int stride, int pad, int kernel, int outSize, out int lo, out int hi)
        {
            // Windows o with o * stride - pad <= i < o * stride - pad + kernel.
            int low = i + pad - kernel + 1;
            lo = low <= 0 ? 0 : (low + stride - 1) / stride;
            hi = (i + pad) / stride;
            if (hi >= outSize) hi = outSize - 1;
        }
    }

    private static void ForwardKernel<T, TReal>(ArrayView<T> x, ArrayView<T> y, Pool3DGeometry g, TReal real,
        int total) where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int ow = u % g.OW;
            int rest = u / g.OW;
            int oh = rest % g.OH;
            rest /= g.OH;
            int od = rest % g.OD;
            int volume = rest / g.OD * g.D * g.H * g.W;
            if (g.IsMax != 0)
            {
                int best = g.ArgMax(x, volume, od, oh, ow);
                y[u] = best < 0 ? T.Zero : x[volume + best];
                continue;
            }
            Pool3DGeometry.Range(od, g.SD, g.PD, g.KD, g.D, out int ds, out int de, out _);
            Pool3DGeometry.Range(oh, g.SH, g.PH, g.KH, g.H, out int hs, out int he, out _);
            Pool3DGeometry.Range(ow, g.SW, g.PW, g.KW, g.W, out int ws, out int we, out _);
            if (ds >= de || hs >= he || ws >= we)
            {
                y[u] = T.Zero;
                continue;
            }
            T sum = T.Zero;
            for (int d = ds; d < de; d++)
            {
                for (int h = hs; h < he; h++)
                {
                    int row = volume + (d * g.H + h) * g.W;
                    for (int w = ws; w < we; w++) sum += x[row + w];
                }
            }
            y[u] = sum / real.FromInt(g.Count(od, oh, ow));
        }
    }

    private static void BackwardKernel<T, TReal>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> dx,
        Pool3DGeometry g, TReal real, int total)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int w = u % g.W;
            int rest = u / g.W;
            int h = rest % g.H;
            rest /= g.H;
            int d = rest % g.D;
            int p = rest / g.D;
            int volume = p * g.D * g.H * g.W, outVolume = p * g.OD * g.OH * g.OW;
            int self = (d * g.H + h) * g.W + w;
            Pool3DGeometry.Covering(d, g.SD, g.PD, g.KD, g.OD, out int od0, out int od1);
            Pool3DGeometry.Covering(h, g.SH, g.PH, g.KH, g.OH, out int oh0, out int oh1);
            Pool3DGeometry.Covering(w, g.SW, g.PW, g.KW, g.OW, out int ow0, out int ow1);
            T sum = T.Zero;
            for (int od = od0; od <= od1; od++)
            {
                for (int oh = oh0; oh <= oh1; oh++)
                {
                    for (int ow = ow0; ow <= ow1; ow++)
                    {
                        int o = outVolume + (od * g.OH + oh) * g.OW + ow;
                        if (g.IsMax != 0)
                        {
                            if (g.ArgMax(x, volume, od, oh, ow) == self) sum += dy[o];
                        }
                        else
                        {
                            sum += dy[o] / real.FromInt(g.Count(od, oh, ow));
                        }
                    }
                }
            }
            dx[u] = sum;
        }
    }
}
