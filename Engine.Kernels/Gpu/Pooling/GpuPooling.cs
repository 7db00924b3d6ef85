using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Max and average pooling on the GPU (float32, NCHW, 1-D and 2-D, valid and full conventions, padding counted or
/// not), with the CPU's rules: padding never wins a max, NaN propagates, a window's gradient goes to its first
/// maximal element (its first NaN), a full-convention window past the input pools nothing. Forward: one thread per
/// output. Backward: one thread per input element gathering the windows that cover it, so no atomics.
/// </summary>
public static class GpuPooling
{
    /// <summary>y = pool(x); y overwritten.</summary>
    public static void Forward(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x, in TensorArg y)
    {
        ArgumentNullException.ThrowIfNull(desc);
        var xv = Dense(runtime, desc, x, desc.InputLength, "input x");
        var yv = Dense(runtime, desc, y, desc.OutputLength, "output y");
        int n = (int)desc.OutputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, PoolGeometry, int>(ForwardKernel)(runtime.Stream,
            runtime.GridStride(n), xv, yv, PoolGeometry.Of(desc), n);
    }

    /// <summary>dx from x (max pooling recomputes each window's arg-max) and dy; dx overwritten.</summary>
    public static void Backward(GpuRuntime runtime, PoolingDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg dx)
    {
        ArgumentNullException.ThrowIfNull(desc);
        var xv = Dense(runtime, desc, x, desc.InputLength, "input x");
        var gv = Dense(runtime, desc, dy, desc.OutputLength, "output gradient dy");
        var dv = Dense(runtime, desc, dx, desc.InputLength, "input gradient dx");
        int n = (int)desc.InputLength;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolGeometry, int>(
            BackwardKernel)(runtime.Stream, runtime.GridStride(n), xv, gv, dv, PoolGeometry.Of(desc), n);
    }

    private static ArrayView<float> Dense(GpuRuntime runtime, PoolingDescriptor d, in TensorArg x, long length,
        string what)
    {
        if (x.Size != length)
            throw new ArgumentException(
                $"{d.OpName}: {what} has {x.Size} elements but {d} needs {length}; pass an array of that size.");
        return x.Elements<float>(runtime, d.OpName);
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
        public readonly int ArgMax(ArrayView<float> x, int plane, int oh, int ow)
        {
            Range(oh, SH, PH, KH, H, out int hs, out int he, out _);
            Range(ow, SW, PW, KW, W, out int ws, out int we, out _);
            if (hs >= he || ws >= we) return -1;
            int best = hs * W + ws;
            float max = x[plane + best];
            if (float.IsNaN(max)) return best;
            for (int h = hs; h < he; h++)
            {
                for (int w = ws; w < we; w++)
                {
                    float v = x[plane + h * W + w];
                    if (float.IsNaN(v)) return h * W + w;
                    if (v > max)
                    {
                        max = v;
                        best = h * W + w;
                    }
                }
            }
            return best;
        }

        /// <summary>The divisor of an average window.</summary>
        public readonly int Count(int oh, int ow)
        {
            Range(oh, SH, PH, KH, H, out int hs, out int he, out int hp);
            Range(ow, SW, PW, KW, W, out int ws, out int we, out int wp);
            return CountIncludePad != 0 ? hp * wp : (he - hs) * (we - ws);
        }
    }

    private static void ForwardKernel(ArrayView<float> x, ArrayView<float> y, PoolGeometry g, int total)
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
                y[u] = best < 0 ? 0f : x[plane + best];
                continue;
            }
            g.Range(oh, g.SH, g.PH, g.KH, g.H, out int hs, out int he, out _);
            g.Range(ow, g.SW, g.PW, g.KW, g.W, out int ws, out int we, out _);
            if (hs >= he || ws >= we)
            {
                y[u] = 0f;
                continue;
            }
            float sum = 0f;
            for (int h = hs; h < he; h++)
                for (int w = ws; w < we; w++) sum += x[plane + h * g.W + w];
            y[u] = sum / g.Count(oh, ow);
        }
    }

    private static void BackwardKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, PoolGeometry g,
        int total)
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int w = u % g.W;
            int rest = u / g.W;
            int h = rest % g.H;
            int p = rest / g.H;
            int plane = p * g.H * g.W, outPlane = p * g.OH * g.OW;
            // Windows oh with oh * SH - PH <= h < oh * SH - PH + KH, likewise for w.
            int ohLo = h + g.PH - g.KH + 1, owLo = w + g.PW - g.KW + 1;
            int oh0 = ohLo <= 0 ? 0 : (ohLo + g.SH - 1) / g.SH, ow0 = owLo <= 0 ? 0 : (owLo + g.SW - 1) / g.SW;
            int oh1 = (h + g.PH) / g.SH, ow1 = (w + g.PW) / g.SW;
            if (oh1 >= g.OH) oh1 = g.OH - 1;
            if (ow1 >= g.OW) ow1 = g.OW - 1;
            float sum = 0f;
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
                        sum += dy[outPlane + oh * g.OW + ow] / g.Count(oh, ow);
                    }
                }
            }
            dx[u] = sum;
        }
    }
}
