using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Max and average pooling over contiguous NCDHW data, forward and backward, as described by a
/// <see cref="Pooling3DDescriptor"/>. Each (n, c) volume is independent and is the unit of parallel work, computed
/// in one fixed order, so results do not depend on the number of threads. Max follows <see cref="CpuPooling"/>:
/// NaN propagates, and the gradient of a window goes to its first maximal element in (d, h, w) order (its first NaN
/// if it holds one), as in PyTorch.
/// </summary>
public static class CpuPooling3D
{
    // Element operations per parallel chunk: below about 32K, handing work to another thread costs more than it saves.
    private const long GrainOps = 1 << 15;

    /// <summary>y = pool(x); y is overwritten.</summary>
    public static void Forward<T>(Pooling3DDescriptor desc, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        CheckLength(desc, "input x", x.Length, desc.InputLength, desc.InputShape);
        CheckLength(desc, "output y", y.Length, desc.OutputLength, desc.OutputShape);
        if (x.Overlaps(y))
            throw new ArgumentException($"{desc.OpName}: output y overlaps input x; pass a separate output buffer.");
        unsafe
        {
            fixed (T* px = x, py = y)
            {
                nint xs = (nint)px, ys = (nint)py;
                long inVol = desc.Input.Volume, outVol = desc.Output.Volume;
                CpuParallel.For((long)desc.N * desc.C, Grain(desc), (start, end) =>
                {
                    for (long p = start; p < end; p++)
                        ForwardVolume(desc, new ReadOnlySpan<T>((T*)xs + p * inVol, (int)inVol),
                            new Span<T>((T*)ys + p * outVol, (int)outVol));
                });
            }
        }
    }

    /// <summary>
    /// dx = d(pool)/dx applied to dy; dx is overwritten. Max pooling recomputes each window's arg-max from x; y only
    /// has to have the right length.
    /// </summary>
    public static void Backward<T>(Pooling3DDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> y,
        ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        CheckLength(desc, "input x", x.Length, desc.InputLength, desc.InputShape);
        CheckLength(desc, "output y", y.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "output gradient dy", dy.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "input gradient dx", dx.Length, desc.InputLength, desc.InputShape);
        ReadOnlySpan<T> dxRead = dx;
        if (dxRead.Overlaps(x) || dxRead.Overlaps(dy))
            throw new ArgumentException(
                $"{desc.OpName}: input gradient dx overlaps x or dy; pass a separate buffer for dx.");
        dx.Clear();
        unsafe
        {
            fixed (T* px = x, pdy = dy, pdx = dx)
            {
                nint xs = (nint)px, dys = (nint)pdy, dxs = (nint)pdx;
                long inVol = desc.Input.Volume, outVol = desc.Output.Volume;
                CpuParallel.For((long)desc.N * desc.C, Grain(desc), (start, end) =>
                {
                    for (long p = start; p < end; p++)
                        BackwardVolume(desc, new ReadOnlySpan<T>((T*)xs + p * inVol, (int)inVol),
                            new ReadOnlySpan<T>((T*)dys + p * outVol, (int)outVol),
                            new Span<T>((T*)dxs + p * inVol, (int)inVol));
                });
            }
        }
    }

    private static long Grain(Pooling3DDescriptor d) =>
        Math.Max(1, GrainOps / Math.Max(1, d.Output.Volume * d.Kernel.Volume));

    // The window of output o along one axis as [start, end) clipped to the input, and its extent clipped to the
    // padded input (MXNet's divisor with count_include_pad).
    private static (int Start, int End, int Padded) Range(Pooling3DDescriptor d, int axis, int o)
    {
        int start = o * d.Stride[axis] - d.Pad[axis];
        int paddedEnd = Math.Min(start + d.Kernel[axis], d.Input[axis] + d.Pad[axis]);
        return (Math.Max(start, 0), Math.Min(paddedEnd, d.Input[axis]), paddedEnd - start);
    }

    private static void ForwardVolume<T>(Pooling3DDescriptor d, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int o = 0;
        for (int od = 0; od < d.Output.D; od++)
        {
            var (ds, de, dp) = Range(d, 0, od);
            for (int oh = 0; oh < d.Output.H; oh++)
            {
                var (hs, he, hp) = Range(d, 1, oh);
                for (int ow = 0; ow < d.Output.W; ow++, o++)
                {
                    var (ws, we, wp) = Range(d, 2, ow);
                    if (ds >= de || hs >= he || ws >= we)
                    {
                        y[o] = T.Zero;
                        continue;
                    }
                    if (d.Mode == PoolingMode.Max)
                    {
                        y[o] = x[ArgMax(d, x, ds, de, hs, he, ws, we)];
                        continue;
                    }
                    T sum = T.Zero;
                    for (int i = ds; i < de; i++)
                    for (int j = hs; j < he; j++)
                    {
                        foreach (T v in x.Slice((i * d.Input.H + j) * d.Input.W + ws, we - ws)) sum += v;
                    }
                    long count = d.CountIncludePad ? (long)dp * hp * wp : (long)(de - ds) * (he - hs) * (we - ws);
                    y[o] = sum / T.CreateChecked(count);
                }
            }
        }
    }

    private static void BackwardVolume<T>(Pooling3DDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int o = 0;
        for (int od = 0; od < d.Output.D; od++)
        {
            var (ds, de, dp) = Range(d, 0, od);
            for (int oh = 0; oh < d.Output.H; oh++)
            {
                var (hs, he, hp) = Range(d, 1, oh);
                for (int ow = 0; ow < d.Output.W; ow++, o++)
                {
                    var (ws, we, wp) = Range(d, 2, ow);
                    if (ds >= de || hs >= he || ws >= we) continue;
                    if (d.Mode == PoolingMode.Max)
                    {
                        dx[ArgMax(d, x, ds, de, hs, he, ws, we)] += dy[o];
                        continue;
                    }
                    long count = d.CountIncludePad ? (long)dp * hp * wp : (long)(de - ds) * (he - hs) * (we - ws);
                    T g = dy[o] / T.CreateChecked(count);
                    for (int i = ds; i < de; i++)
                    for (int j = hs; j < he; j++)
                    {
                        foreach (ref T v in dx.Slice((i * d.Input.H + j) * d.Input.W + ws, we - ws)) v += g;
                    }
                }
            }
        }
    }

    // Index of the window's first maximal element in (d, h, w) order, or of its first NaN.
    private static int ArgMax<T>(Pooling3DDescriptor d, ReadOnlySpan<T> x, int ds, int de, int hs, int he, int ws,
        int we)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int best = (ds * d.Input.H + hs) * d.Input.W + ws;
        T max = x[best];
        if (T.IsNaN(max)) return best;
        for (int i = ds; i < de; i++)
        for (int j = hs; j < he; j++)
        {
            int rowStart = (i * d.Input.H + j) * d.Input.W + ws;
            var row = x.Slice(rowStart, we - ws);
            for (int k = 0; k < row.Length; k++)
            {
                T v = row[k];
                if (v > max)
                {
                    max = v;
                    best = rowStart + k;
                }
                else if (T.IsNaN(v))
                {
                    return rowStart + k;
                }
            }
        }
        return best;
    }

    private static void CheckLength(Pooling3DDescriptor d, string what, int length, long expected, Shape shape)
    {
        if (length != expected)
            throw new ArgumentException(
                $"{d.OpName}: {what} has {length} elements but {d} needs {expected} for shape {shape}; pass a " +
                "buffer of exactly that size.");
    }
}
