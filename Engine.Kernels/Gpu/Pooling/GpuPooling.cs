using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Max and average pooling on the GPU (float32 and float64, one generic kernel each; NCHW, 1-D and 2-D, valid and
/// full conventions, padding counted or not), with the CPU's rules: padding never wins a max, NaN propagates, a
/// window's gradient goes to its first maximal element (its first NaN), a full-convention window past the input
/// pools nothing. Forward: one thread per output. Backward: one thread per input element gathering the windows that
/// cover it, so no atomics.
/// </summary>
public static partial class GpuPooling
{
    /// <summary>y = pool(x); y overwritten.</summary>
    public static void Forward(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x, in TensorArg y)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64) Forward<double, DoubleReal>(runtime, desc, x, y);
        else Forward<float, FloatReal>(runtime, desc, x, y);
    }

    private static void Forward<T, TReal>(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x, in TensorArg y)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var xv = Dense<T>(runtime, desc, x, desc.InputLength, "input x");
        var yv = Dense<T>(runtime, desc, y, desc.OutputLength, "output y");
        int n = (int)desc.OutputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, PoolGeometry, TReal, int>(ForwardKernel<T, TReal>)(
            runtime.Stream, runtime.GridStride(n), xv, yv, PoolGeometry.Of(desc), default, n);
    }

    /// <summary>dx from x (max pooling recomputes each window's arg-max) and dy; dx overwritten.</summary>
    public static void Backward(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg dx)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64) Backward<double, DoubleReal>(runtime, desc, x, dy, dx);
        else Backward<float, FloatReal>(runtime, desc, x, dy, dx);
    }

    private static void Backward<T, TReal>(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg dx)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var xv = Dense<T>(runtime, desc, x, desc.InputLength, "input x");
        var gv = Dense<T>(runtime, desc, dy, desc.OutputLength, "output gradient dy");
        var dv = Dense<T>(runtime, desc, dx, desc.InputLength, "input gradient dx");
        int n = (int)desc.InputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, PoolGeometry, TReal, int>(
            BackwardKernel<T, TReal>)(runtime.Stream, runtime.GridStride(n), xv, gv, dv, PoolGeometry.Of(desc),
            default, n);
    }

    private static ArrayView<T> Dense<T>(GpuRuntime runtime, PoolingDescriptor d, in TensorArg x, long length,
        string what) where T : unmanaged
    {
        if (x.Size != length)
            throw new ArgumentException(
                $"{d.OpName}: {what} has {x.Size} elements but {d} needs {length}; pass an array of that size.");
        return x.Elements<T>(runtime, d.OpName);
    }

    /// <summary>The descriptor's numbers as scalar fields.</summary>
    public struct PoolGeometry
    {
        public int H, W, OH, OW, KH, KW, SH, SW, PH, PW, IsMax, CountIncludePad;

        internal static PoolGeometry Of(PoolingDescriptor d) => new()
        {
            H = d.H, W = d.W, OH = d.OutH, OW = d.OutW, KH = d.KernelH, KW = d.KernelW, SH = d.StrideH,
            SW = d.StrideW, PH = d.PadH, PW = d.PadW, IsMax = d.Mode == PoolingMode.Max ? 1 : 0,
            CountIncludePad = d.CountIncludePad ? 1 : 0,
        };

        /// <summary>A window's clipped range [start, end) and its extent including padding.</summary>
        public readonly void Range(int o, int stride, int pad, int kernel, int size, out int start, out int end,
            out int padded)
        {
            int s = o * stride - pad;
            int paddedEnd = s + kernel < size + pad ? s + kernel : size + pad;
            start = s > 0 ? s : 0;
            end = paddedEnd < size ? paddedEnd : size;
            padded = paddedEnd - s;
        }

        /// <summary>Index in the plane of window (oh, ow)'s first maximum (its first NaN), or -1 when empty.</summary>
        public readonly int ArgMax<T>(ArrayView<T> x, int plane, int oh, int ow)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Range(oh, SH, PH, KH, H, out int hs, out int he, out _);
            Range(ow, SW, PW, KW, W, out int ws, out int we, out _);
            if (hs >= he || ws >= we) return -1;
            int best = hs * W + ws;
            T max = x[plane + best];
            if (T.IsNaN(max)) return best;
            for (int h = hs; h < he; h++)
            {
                for (int w = ws; w < we; w++)
                {
                    T v = x[plane + h * W + w];
                    if (T.IsNaN(v)) return h * W + w;
                    if (v > max)
                    {
                        max = v;
                        best = h * W + w;
                    }
                }
            }
            return best;
        }

        /// <summary>
        /// The windows that cover input element (h, w): rows [oh0, oh1] and columns [ow0, ow1] (empty when
        /// oh0 &gt; oh1 or ow0 &gt; ow1), those with oh * SH - PH &lt;= h &lt; oh * SH - PH + KH, likewise for w.
        /// </summary>
        public readonly void Covering(int h, int w, out int oh0, out int oh1, out int ow0, out int ow1)
        {
            int ohLo = h + PH - KH + 1, owLo = w + PW - KW + 1;
            oh0 = ohLo <= 0 ? 0 : (ohLo + SH - 1) / SH;
            ow0 = owLo <= 0 ? 0 : (owLo + SW - 1) / SW;
            oh1 = (h + PH) / SH;
            ow1 = (w + PW) / SW;
            if (oh1 >= OH) oh1 = OH - 1;
            if (ow1 >= OW) ow1 = OW - 1;
        }

        /// <summary>The divisor of an average window.</summary>
        public readonly int Count(int oh, int ow)
        {
            Range(oh, SH, PH, KH, H, out int hs, out int he, out int hp);
            Range(ow, SW, PW, KW, W, out int ws, out int we, out int wp);
            return CountIncludePad != 0 ? hp * wp : (he - hs) * (we - ws);
        }
    }

    private static void ForwardKernel<T, TReal>(ArrayView<T> x, ArrayView<T> y, PoolGeometry g, TReal real,
        int total) where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int ow = u % g.OW;
            int rest = u / g.OW;
            int oh = rest % g.OH;
            int plane = rest / g.OH * g.H * g.W;
            if (g.IsMax != 0)
            {
                int best = g.ArgMax(x, plane, oh, ow);
                y[u] = best < 0 ? T.Zero : x[plane + best];
                continue;
            }
            g.Range(oh, g.SH, g.PH, g.KH, g.H, out int hs, out int he, out _);
            g.Range(ow, g.SW, g.PW, g.KW, g.W, out int ws, out int we, out _);
            if (hs >= he || ws >= we)
            {
                y[u] = T.Zero;
                continue;
            }
            T sum = T.Zero;
            for (int h = hs; h < he; h++)
                for (int w = ws; w < we; w++) sum += x[plane + h * g.W + w];
            y[u] = sum / real.FromInt(g.Count(oh, ow));
        }
    }

    private static void BackwardKernel<T, TReal>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> dx, PoolGeometry g,
        TReal real, int total) where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int w = u % g.W;
            int rest = u / g.W;
            int h = rest % g.H;
            int p = rest / g.H;
            int plane = p * g.H * g.W, outPlane = p * g.OH * g.OW;
            g.Covering(h, w, out int oh0, out int oh1, out int ow0, out int ow1);
            T sum = T.Zero;
            for (int oh = oh0; oh <= oh1; oh++)
            {
                for (int ow = ow0; ow <= ow1; ow++)
                {
                    if (g.IsMax != 0)
                    {
                        if (g.ArgMax(x, plane, oh, ow) == h * g.W + w) sum += dy[outPlane + oh * g.OW + ow];
                    }
                    else
                    {
                        sum += dy[outPlane + oh * g.OW + ow] / real.FromInt(g.Count(oh, ow));
                    }
                }
            }
            dx[u] = sum;
        }
    }
}
