using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Max pooling that keeps each window's arg-max (compiled training graphs: <c>_pooling_argmax</c> and
/// <c>_backward_pooling_argmax</c>). The forward writes y as <see cref="Forward{T}"/> does and, per window, one byte:
/// the winner's position in the window (row-major over the unclipped kernel, so at most 255 window elements), or
/// <see cref="NoWinner"/> where the window passes no gradient (it holds no input element, or with the relu mask its
/// winning value is &lt;= 0). The backward scatters dy through those bytes and never reads x. The winner is the
/// element <see cref="Backward{T}"/> picks (the first maximum in row-major window order, the first NaN), through
/// the same comparisons, and dx is written as it writes it, so the gradient is bit for bit the same.
/// </summary>
public static partial class CpuPooling
{
    /// <summary>The saved index of a window that passes no gradient.</summary>
    public const byte NoWinner = 255;

    /// <summary>Whether a pooling can keep its arg-max in a byte per window: max pooling, windows of at most 255
    /// elements (the kernel; the whole plane for global pooling).</summary>
    public static bool FitsArgMax(PoolingDescriptor desc)
    {
        ArgumentNullException.ThrowIfNull(desc);
        return desc.Mode == PoolingMode.Max && (long)desc.KernelH * desc.KernelW <= NoWinner;
    }

    /// <summary>
    /// y = pool(x) and argMax = each window's winner (see the class); both overwritten. With
    /// <paramref name="reluMask"/>, x is a relu's output and a window whose winning value is &lt;= 0 gets
    /// <see cref="NoWinner"/>: its gradient would be zeroed by the relu's backward.
    /// </summary>
    public static void ForwardWithArgMax<T>(PoolingDescriptor desc, ReadOnlySpan<T> x, Span<T> y, Span<byte> argMax,
        bool reluMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        string op = desc.OpName;
        CheckElementType<T>(op);
        CheckArgMaxFits(desc);
        CheckLength(desc, "input x", x.Length, desc.InputLength, desc.InputShape);
        CheckLength(desc, "output y", y.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "arg-max indices", argMax.Length, desc.OutputLength, desc.OutputShape);
        if (x.Overlaps(y))
            throw new ArgumentException($"{op}: output y overlaps input x; pass a separate output buffer.");
        ForwardWithArgMaxCore(desc, x, y, argMax, reluMask);
    }

    /// <summary>dx from the forward's arg-max indices and dy; dx overwritten (x is not needed).</summary>
    public static void BackwardFromArgMax<T>(PoolingDescriptor desc, ReadOnlySpan<byte> argMax, ReadOnlySpan<T> dy,
        Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        string op = desc.OpName;
        CheckElementType<T>(op);
        CheckArgMaxFits(desc);
        CheckLength(desc, "arg-max indices", argMax.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "output gradient dy", dy.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "input gradient dx", dx.Length, desc.InputLength, desc.InputShape);
        if (((ReadOnlySpan<T>)dx).Overlaps(dy))
            throw new ArgumentException($"{op}: input gradient dx overlaps dy; pass a separate buffer for dx.");
        BackwardFromArgMaxCore(desc, argMax, dy, dx);
    }

    private static void CheckArgMaxFits(PoolingDescriptor d)
    {
        if (!FitsArgMax(d))
            throw new ArgumentException(
                $"{d.OpName}: {d} cannot keep its arg-max in a byte per window (max pooling with at most " +
                $"{NoWinner} elements per window only); run the plain pooling backward, which reads x.");
    }

    private static unsafe void ForwardWithArgMaxCore<T>(PoolingDescriptor d, ReadOnlySpan<T> x, Span<T> y,
        Span<byte> argMax, bool reluMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long planes = (long)d.N * d.C;
        if (planes == 0) return;
        int inPlane = d.H * d.W, outPlane = d.OutH * d.OutW;
        long grain = Math.Max(1, GrainOps / Math.Max(1, 2 * PlaneOps(d)));
        int batch = PlanesPer2x2Batch<T>(d);
        fixed (T* px = x, py = y)
        fixed (byte* pi = argMax)
        {
            nint ax = (nint)px, ay = (nint)py, ai = (nint)pi;
            CpuParallel.For(planes, grain, (start, end) =>
            {
                for (long p = start; p < end; p++)
                {
                    if (batch > 0)
                    {
                        // Whole planes one after another are one tall plane (no window crosses a plane).
                        int count = (int)Math.Min(batch, end - p);
                        ArgMax2x2(new ReadOnlySpan<float>((float*)ax + p * inPlane, count * inPlane),
                            new Span<float>((float*)ay + p * outPlane, count * outPlane),
                            new Span<byte>((byte*)ai + p * outPlane, count * outPlane), d.W, d.OutW,
                            count * d.OutH, d.OutW, reluMask);
                        p += count - 1;
                        continue;
                    }
                    ArgMaxPlane(d, new ReadOnlySpan<T>((T*)ax + p * inPlane, inPlane),
                        new Span<T>((T*)ay + p * outPlane, outPlane),
                        new Span<byte>((byte*)ai + p * outPlane, outPlane), reluMask);
                }
            });
        }
    }

    /// <summary>
    /// Planes per call of the 2x2 paths when a float 2x2 stride-2 pool's windows tile its planes exactly (even
    /// sides): as many whole planes as the staging holds (at least one), else 0. LeNet's 8x8 planes hold 16 windows,
    /// less work than a call's set-up.
    /// </summary>
    private static int PlanesPer2x2Batch<T>(PoolingDescriptor d) =>
        Is2x2Float<T>(d) && d.H % 2 == 0 && d.W % 2 == 0 && d.OutH == d.H / 2 && d.OutW == d.W / 2
            ? Math.Max(1, MaxPackedPlane / Math.Max(1, d.H * d.W)) : 0;

    private static unsafe void BackwardFromArgMaxCore<T>(PoolingDescriptor d, ReadOnlySpan<byte> argMax,
        ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long planes = (long)d.N * d.C;
        if (planes == 0) return;
        int inPlane = d.H * d.W, outPlane = d.OutH * d.OutW;
        long grain = Math.Max(1, GrainOps / Math.Max(1, (long)inPlane));
        int batch = PlanesPer2x2Batch<T>(d);
        fixed (byte* pi = argMax)
        fixed (T* pdy = dy, pdx = dx)
        {
            nint ai = (nint)pi, ady = (nint)pdy, adx = (nint)pdx;
            CpuParallel.For(planes, grain, (start, end) =>
            {
                for (long p = start; p < end; p++)
                {
                    if (batch > 0)
                    {
                        int count = (int)Math.Min(batch, end - p);
                        Scatter2x2(new ReadOnlySpan<byte>((byte*)ai + p * outPlane, count * outPlane),
                            new ReadOnlySpan<float>((float*)ady + p * outPlane, count * outPlane),
                            new Span<float>((float*)adx + p * inPlane, count * inPlane), d.W, d.OutW,
                            count * d.OutH, d.OutW);
                        p += count - 1;
                        continue;
                    }
                    ScatterPlane(d, new ReadOnlySpan<byte>((byte*)ai + p * outPlane, outPlane),
                        new ReadOnlySpan<T>((T*)ady + p * outPlane, outPlane),
                        new Span<T>((T*)adx + p * inPlane, inPlane));
                }
            });
        }
    }

    // The 2x2 stride-2 float windows wholly inside the input take the vector paths (as in BackwardPlane); the rest,
    // and every other pooling, the window scan.
    private static bool Is2x2Float<T>(PoolingDescriptor d) => typeof(T) == typeof(float) &&
        d is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0, IsGlobal: false };

    private static void ArgMaxPlane<T>(PoolingDescriptor d, ReadOnlySpan<T> x, Span<T> y, Span<byte> argMax,
        bool reluMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Is2x2Float<T>(d))
        {
            ForwardPlane(d, x, y);
            ArgMaxWindows(d, x, argMax, 0, d.OutH, 0, d.OutW, reluMask);
            return;
        }
        // As ForwardPlane: the windows wholly inside the input, then 'full''s clipped last row and column.
        int rows = d.H / 2, cols = d.W / 2;
        ArgMax2x2(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), argMax, d.W, d.OutW, rows, cols,
            reluMask);
        MaxWindows(d, x, y, rows, d.OutH, 0, d.OutW);
        MaxWindows(d, x, y, 0, rows, cols, d.OutW);
        ArgMaxWindows(d, x, argMax, rows, d.OutH, 0, d.OutW, reluMask);
        ArgMaxWindows(d, x, argMax, 0, rows, cols, d.OutW, reluMask);
    }

    private static void ScatterPlane<T>(PoolingDescriptor d, ReadOnlySpan<byte> argMax, ReadOnlySpan<T> dy,
        Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Is2x2Float<T>(d))
        {
            dx.Clear();
            ScatterWindows(d, argMax, dy, dx, 0, d.OutH, 0, d.OutW);
            return;
        }
        int rows = d.H / 2, cols = d.W / 2;
        // The 2x2 path writes every element of its 2 rows x 2 cols block; clear only when there is more.
        if (d.H != 2 * rows || d.W != 2 * cols || d.OutH != rows || d.OutW != cols) dx.Clear();
        Scatter2x2(argMax, MemoryMarshal.Cast<T, float>(dy), MemoryMarshal.Cast<T, float>(dx), d.W, d.OutW, rows,
            cols);
        ScatterWindows(d, argMax, dy, dx, rows, d.OutH, 0, d.OutW);
        ScatterWindows(d, argMax, dy, dx, 0, rows, cols, d.OutW);
    }

    // Any window: the scan of WindowArgMax (the plain backward's rule), its position over the unclipped kernel.
    private static void ArgMaxWindows<T>(PoolingDescriptor d, ReadOnlySpan<T> x, Span<byte> argMax, int oh0,
        int oh1, int ow0, int ow1, bool reluMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = oh0; oh < oh1; oh++)
        {
            var (hs, he, _) = WindowRange(oh, d.StrideH, d.PadH, d.KernelH, d.H);
            int top = oh * d.StrideH - d.PadH;
            for (int ow = ow0; ow < ow1; ow++)
            {
                var (ws, we, _) = WindowRange(ow, d.StrideW, d.PadW, d.KernelW, d.W);
                int left = ow * d.StrideW - d.PadW;
                byte winner = NoWinner;
                if (hs < he && ws < we)
                {
                    int best = WindowArgMax(x, d.W, hs, he, ws, we);
                    // relu's backward zeroes x <= 0 (a NaN keeps its gradient).
                    if (!(reluMask && x[best] <= T.Zero))
                        winner = (byte)((best / d.W - top) * d.KernelW + best % d.W - left);
                }
                argMax[oh * d.OutW + ow] = winner;
            }
        }
    }

    // Any window, in the order MaxWindowsBackward adds them.
    private static void ScatterWindows<T>(PoolingDescriptor d, ReadOnlySpan<byte> argMax, ReadOnlySpan<T> dy,
        Span<T> dx, int oh0, int oh1, int ow0, int ow1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = oh0; oh < oh1; oh++)
        {
            int top = oh * d.StrideH - d.PadH;
            for (int ow = ow0; ow < ow1; ow++)
            {
                int o = oh * d.OutW + ow, winner = argMax[o];
                if (winner == NoWinner) continue;
                int h = top + winner / d.KernelW, w = ow * d.StrideW - d.PadW + winner % d.KernelW;
                dx[h * d.W + w] += dy[o];
            }
        }
    }

    // Staged like MaxPool2x2BackwardNarrow when the rows are narrower than a vector of windows (LeNet's 12 and 4
    // windows a row): the top and bottom rows of the row pairs as two long rows whose windows are the plane's in
    // order.
    private static bool Stages2x2(int rows, int cols) =>
        WindowsPerVector > 1 && cols % WindowsPerVector != 0 && 2 * rows * cols <= MaxPackedPlane;

    [SkipLocalsInit] // every staged element is written before it is read
    private static void ArgMax2x2(ReadOnlySpan<float> x, Span<float> y, Span<byte> argMax, int width, int outW,
        int rows, int cols, bool reluMask)
    {
        if (!Stages2x2(rows, cols))
        {
            for (int r = 0; r < rows; r++)
            {
                ArgMax2x2Run(x.Slice(2 * r * width, 2 * cols), x.Slice((2 * r + 1) * width, 2 * cols),
                    y.Slice(r * outW, cols), argMax.Slice(r * outW, cols), reluMask);
            }
            return;
        }
        int n = 2 * rows * cols, windows = rows * cols;
        Span<float> top = stackalloc float[n], bottom = stackalloc float[n];
        CopyRows(x, 2 * width, top, 2 * cols, 2 * cols, rows);
        CopyRows(x.Slice(width), 2 * width, bottom, 2 * cols, 2 * cols, rows);
        if (outW == cols)
        {
            ArgMax2x2Run(top, bottom, y.Slice(0, windows), argMax.Slice(0, windows), reluMask);
            return;
        }
        Span<float> stagedY = stackalloc float[windows];
        Span<byte> staged = stackalloc byte[windows];
        ArgMax2x2Run(top, bottom, stagedY, staged, reluMask);
        for (int r = 0; r < rows; r++)
        {
            stagedY.Slice(r * cols, cols).CopyTo(y.Slice(r * outW));
            staged.Slice(r * cols, cols).CopyTo(argMax.Slice(r * outW));
        }
    }

    [SkipLocalsInit]
    private static void Scatter2x2(ReadOnlySpan<byte> argMax, ReadOnlySpan<float> dy, Span<float> dx, int width,
        int outW, int rows, int cols)
    {
        if (!Stages2x2(rows, cols))
        {
            for (int r = 0; r < rows; r++)
            {
                Scatter2x2Run(argMax.Slice(r * outW, cols), dy.Slice(r * outW, cols),
                    dx.Slice(2 * r * width, 2 * cols), dx.Slice((2 * r + 1) * width, 2 * cols));
            }
            return;
        }
        int n = 2 * rows * cols, windows = rows * cols;
        Span<float> dTop = stackalloc float[n], dBottom = stackalloc float[n];
        if (outW == cols)
        {
            Scatter2x2Run(argMax.Slice(0, windows), dy.Slice(0, windows), dTop, dBottom);
        }
        else
        {
            Span<byte> winners = stackalloc byte[windows];
            Span<float> g = stackalloc float[windows];
            for (int r = 0; r < rows; r++)
            {
                argMax.Slice(r * outW, cols).CopyTo(winners.Slice(r * cols));
                dy.Slice(r * outW, cols).CopyTo(g.Slice(r * cols));
            }
            Scatter2x2Run(winners, g, dTop, dBottom);
        }
        CopyRows(dTop, 2 * cols, dx, 2 * width, 2 * cols, rows);
        CopyRows(dBottom, 2 * cols, dx.Slice(width), 2 * width, 2 * cols, rows);
    }

    /// <summary>
    /// The maxima and winners of consecutive 2x2 windows (a b over e f: top[2c], top[2c + 1], bottom[2c],
    /// bottom[2c + 1]), 16 at a time with AVX-512, 8 with AVX2, 4 with ARM64's AdvSimd: the maximum as
    /// <see cref="MaxPool2x2"/> takes it (max(max(a, e), max(b, f))), the winner with the comparisons of
    /// <see cref="Window2x2ArgMax"/>.
    /// </summary>
    private static void ArgMax2x2Run(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, Span<float> y,
        Span<byte> argMax, bool reluMask)
    {
        int windows = argMax.Length, c = 0;
        if (Avx512F.IsSupported)
        {
            for (; c + 16 <= windows; c += 16)
            {
                var r0lo = Vector512.Create(top.Slice(2 * c, 16));
                var r0hi = Vector512.Create(top.Slice(2 * c + 16, 16));
                var r1lo = Vector512.Create(bottom.Slice(2 * c, 16));
                var r1hi = Vector512.Create(bottom.Slice(2 * c + 16, 16));
                var nan = ~(Vector512.Equals(r0lo, r0lo) & Vector512.Equals(r0hi, r0hi) &
                            Vector512.Equals(r1lo, r1lo) & Vector512.Equals(r1hi, r1hi));
                if (nan != Vector512<float>.Zero)
                {
                    ArgMax2x2Scalar(top, bottom, y, argMax, c, c + 16, reluMask);
                    continue;
                }
                var a = Avx512F.PermuteVar16x32x2(r0lo, EvenLanes, r0hi);
                var b = Avx512F.PermuteVar16x32x2(r0lo, OddLanes, r0hi);
                var e = Avx512F.PermuteVar16x32x2(r1lo, EvenLanes, r1hi);
                var f = Avx512F.PermuteVar16x32x2(r1lo, OddLanes, r1hi);
                Vector512.Max(Vector512.Max(a, e), Vector512.Max(b, f)).CopyTo(y.Slice(c, 16));
                Vector512<float> upper = Vector512.Max(a, b), lower = Vector512.Max(e, f);
                var right = Vector512.GreaterThan(b, a).AsInt32();
                var rightBelow = Vector512.GreaterThan(f, e).AsInt32();
                // Masks are -1: the winner is 2 - rightBelow below, -right above.
                var winner = Vector512.ConditionalSelect(Vector512.GreaterThan(lower, upper).AsInt32(),
                    Vector512.Create(2) - rightBelow, -right);
                if (reluMask)
                    winner |= Vector512.LessThanOrEqual(Vector512.Max(upper, lower), Vector512<float>.Zero).AsInt32();
                // vpmovdb keeps the low byte: -1 becomes NoWinner.
                Avx512F.ConvertToVector128Byte(winner).CopyTo(argMax.Slice(c, 16));
            }
        }
        else if (Avx2.IsSupported)
        {
            for (; c + 8 <= windows; c += 8)
            {
                var r0lo = Vector256.Create(top.Slice(2 * c, 8));
                var r0hi = Vector256.Create(top.Slice(2 * c + 8, 8));
                var r1lo = Vector256.Create(bottom.Slice(2 * c, 8));
                var r1hi = Vector256.Create(bottom.Slice(2 * c + 8, 8));
                var nan = ~(Vector256.Equals(r0lo, r0lo) & Vector256.Equals(r0hi, r0hi) &
                            Vector256.Equals(r1lo, r1lo) & Vector256.Equals(r1hi, r1hi));
                if (nan != Vector256<float>.Zero)
                {
                    ArgMax2x2Scalar(top, bottom, y, argMax, c, c + 8, reluMask);
                    continue;
                }
                var a = EvenOf(r0lo, r0hi);
                var b = OddOf(r0lo, r0hi);
                var e = EvenOf(r1lo, r1hi);
                var f = OddOf(r1lo, r1hi);
                Vector256.Max(Vector256.Max(a, e), Vector256.Max(b, f)).CopyTo(y.Slice(c, 8));
                Vector256<float> upper = Vector256.Max(a, b), lower = Vector256.Max(e, f);
                var right = Vector256.GreaterThan(b, a).AsInt32();
                var rightBelow = Vector256.GreaterThan(f, e).AsInt32();
                var winner = Vector256.ConditionalSelect(Vector256.GreaterThan(lower, upper).AsInt32(),
                    Vector256.Create(2) - rightBelow, -right);
                if (reluMask)
                    winner |= Vector256.LessThanOrEqual(Vector256.Max(upper, lower), Vector256<float>.Zero).AsInt32();
                // Truncating narrows keep the low byte (-1 becomes NoWinner); the first 8 bytes are the windows'.
                var words = Vector256.Narrow(winner, winner);
                ulong bytes = Vector256.Narrow(words, words).AsUInt64().ToScalar();
                MemoryMarshal.Write(argMax.Slice(c, 8), in bytes);
            }
        }
        else if (HasPairs128)
        {
            // ARM64 (AdvSimd) and the forced Vector128 path: 4 windows at a time, the same comparisons.
            for (; c + 4 <= windows; c += 4)
            {
                var r0lo = Vector128.Create(top.Slice(2 * c, 4));
                var r0hi = Vector128.Create(top.Slice(2 * c + 4, 4));
                var r1lo = Vector128.Create(bottom.Slice(2 * c, 4));
                var r1hi = Vector128.Create(bottom.Slice(2 * c + 4, 4));
                var nan = ~(Vector128.Equals(r0lo, r0lo) & Vector128.Equals(r0hi, r0hi) &
                            Vector128.Equals(r1lo, r1lo) & Vector128.Equals(r1hi, r1hi));
                if (nan != Vector128<float>.Zero)
                {
                    ArgMax2x2Scalar(top, bottom, y, argMax, c, c + 4, reluMask);
                    continue;
                }
                var a = Lanes128.EvenOf(r0lo, r0hi);
                var b = Lanes128.OddOf(r0lo, r0hi);
                var e = Lanes128.EvenOf(r1lo, r1hi);
                var f = Lanes128.OddOf(r1lo, r1hi);
                Vector128.Max(Vector128.Max(a, e), Vector128.Max(b, f)).CopyTo(y.Slice(c, 4));
                Vector128<float> upper = Vector128.Max(a, b), lower = Vector128.Max(e, f);
                var right = Vector128.GreaterThan(b, a).AsInt32();
                var rightBelow = Vector128.GreaterThan(f, e).AsInt32();
                var winner = Vector128.ConditionalSelect(Vector128.GreaterThan(lower, upper).AsInt32(),
                    Vector128.Create(2) - rightBelow, -right);
                if (reluMask)
                    winner |= Vector128.LessThanOrEqual(Vector128.Max(upper, lower), Vector128<float>.Zero).AsInt32();
                var words = Vector128.Narrow(winner, winner);
                uint bytes = Vector128.Narrow(words, words).AsUInt32().ToScalar();
                MemoryMarshal.Write(argMax.Slice(c, 4), in bytes);
            }
        }
        ArgMax2x2Scalar(top, bottom, y, argMax, c, windows, reluMask);
    }

    private static void ArgMax2x2Scalar(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, Span<float> y,
        Span<byte> argMax, int c0, int c1, bool reluMask)
    {
        for (int c = c0; c < c1; c++)
        {
            float a = top[2 * c], b = top[2 * c + 1], e = bottom[2 * c], f = bottom[2 * c + 1];
            // ForwardPlane's maximum: MaxPool2x2's with vectors, WindowMax's scan without.
            y[c] = Uses2x2Vectors ? Max4(a, b, e, f)
                : float.Max(float.Max(float.Max(float.Max(a, a), b), e), f);
            if (float.IsNaN(a) || float.IsNaN(b) || float.IsNaN(e) || float.IsNaN(f))
            {
                // The first NaN wins (WindowArgMax), and relu's backward keeps a NaN's gradient.
                argMax[c] = (byte)(float.IsNaN(a) ? 0 : float.IsNaN(b) ? 1 : float.IsNaN(e) ? 2 : 3);
                continue;
            }
            bool masked = reluMask && MathF.Max(MathF.Max(a, b), MathF.Max(e, f)) <= 0;
            argMax[c] = masked ? NoWinner : (byte)Window2x2ArgMax(a, b, e, f);
        }
    }

    /// <summary>
    /// dx of consecutive 2x2 windows from their winners: g to the winner, 0 to the other three (every element
    /// written, as <see cref="MaxPool2x2BackwardRowVectors"/> writes it), 16, 8 or 4 windows at a time.
    /// </summary>
    private static void Scatter2x2Run(ReadOnlySpan<byte> argMax, ReadOnlySpan<float> g, Span<float> d0,
        Span<float> d1)
    {
        int windows = argMax.Length, c = 0;
        if (Avx512F.IsSupported)
        {
            for (; c + 16 <= windows; c += 16)
            {
                var winner = Avx512F.ConvertToVector512Int32(Vector128.Create(argMax.Slice(c, 16)));
                var grad = Vector512.Create(g.Slice(c, 16));
                var ga = grad & Vector512.Equals(winner, Vector512<int>.Zero).AsSingle();
                var gb = grad & Vector512.Equals(winner, Vector512<int>.One).AsSingle();
                var ge = grad & Vector512.Equals(winner, Vector512.Create(2)).AsSingle();
                var gf = grad & Vector512.Equals(winner, Vector512.Create(3)).AsSingle();
                Avx512F.PermuteVar16x32x2(ga, InterleaveLow, gb).CopyTo(d0.Slice(2 * c, 16));
                Avx512F.PermuteVar16x32x2(ga, InterleaveHigh, gb).CopyTo(d0.Slice(2 * c + 16, 16));
                Avx512F.PermuteVar16x32x2(ge, InterleaveLow, gf).CopyTo(d1.Slice(2 * c, 16));
                Avx512F.PermuteVar16x32x2(ge, InterleaveHigh, gf).CopyTo(d1.Slice(2 * c + 16, 16));
            }
        }
        else if (Avx2.IsSupported)
        {
            for (; c + 8 <= windows; c += 8)
            {
                var packed = Vector128.CreateScalar(MemoryMarshal.Read<ulong>(argMax.Slice(c, 8))).AsByte();
                var winner = Avx2.ConvertToVector256Int32(packed);
                var grad = Vector256.Create(g.Slice(c, 8));
                var ga = grad & Vector256.Equals(winner, Vector256<int>.Zero).AsSingle();
                var gb = grad & Vector256.Equals(winner, Vector256<int>.One).AsSingle();
                var ge = grad & Vector256.Equals(winner, Vector256.Create(2)).AsSingle();
                var gf = grad & Vector256.Equals(winner, Vector256.Create(3)).AsSingle();
                StoreWindows8(ga, gb, ge, gf, d0, d1, c);
            }
        }
        else if (HasPairs128)
        {
            for (; c + 4 <= windows; c += 4)
            {
                var packed = Vector128.CreateScalar(MemoryMarshal.Read<uint>(argMax.Slice(c, 4))).AsByte();
                var winner = Vector128.WidenLower(Vector128.WidenLower(packed)).AsInt32();
                var grad = Vector128.Create(g.Slice(c, 4));
                var ga = grad & Vector128.Equals(winner, Vector128<int>.Zero).AsSingle();
                var gb = grad & Vector128.Equals(winner, Vector128<int>.One).AsSingle();
                var ge = grad & Vector128.Equals(winner, Vector128.Create(2)).AsSingle();
                var gf = grad & Vector128.Equals(winner, Vector128.Create(3)).AsSingle();
                Lanes128.ZipLow(ga, gb).CopyTo(d0.Slice(2 * c, 4));
                Lanes128.ZipHigh(ga, gb).CopyTo(d0.Slice(2 * c + 4, 4));
                Lanes128.ZipLow(ge, gf).CopyTo(d1.Slice(2 * c, 4));
                Lanes128.ZipHigh(ge, gf).CopyTo(d1.Slice(2 * c + 4, 4));
            }
        }
        for (; c < windows; c++)
        {
            int w = argMax[c];
            d0[2 * c] = w == 0 ? g[c] : 0;
            d0[2 * c + 1] = w == 1 ? g[c] : 0;
            d1[2 * c] = w == 2 ? g[c] : 0;
            d1[2 * c + 1] = w == 3 ? g[c] : 0;
        }
    }
}
