using System.Runtime.Intrinsics.X86;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Max and average pooling over contiguous NCHW data, forward and backward, as described by a
/// <see cref="PoolingDescriptor"/> (MXNet semantics; see there). Each (n, c) plane is independent, so planes are
/// the unit of parallel work and every plane is computed in one fixed order: results do not depend on the number of
/// threads.
/// </summary>
/// <remarks>
/// Max: padding never wins; NaN propagates, as in PyTorch; the gradient of a window goes to its first maximal
/// element in row-major window order (its first NaN if it holds one), as in PyTorch. The forward pass takes an IEEE
/// maximum, so a zero maximum may come out as +0 where the first maximal element is -0. The float 2x2 stride-2 max
/// pool and global pooling have SIMD paths.
/// </remarks>
public static partial class CpuPooling
{
    // Element operations per parallel chunk: below about 32K, handing work to another thread costs more than it saves.
    private const long GrainOps = 1 << 15;

    /// <summary>y = pool(x). x is (N, C, H, W), y is (N, C, OutH, OutW); y is overwritten.</summary>
    public static void Forward<T>(PoolingDescriptor desc, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        string op = desc.OpName;
        CheckElementType<T>(op);
        CheckLength(desc, "input x", x.Length, desc.InputLength, desc.InputShape);
        CheckLength(desc, "output y", y.Length, desc.OutputLength, desc.OutputShape);
        if (x.Overlaps(y))
            throw new ArgumentException($"{op}: output y overlaps input x; pass a separate output buffer.");
        ForwardCore(desc, x, y);
    }

    /// <summary>
    /// dx = d(pool)/dx applied to dy; dx is overwritten. x and y are the forward input and output (max pooling
    /// recomputes each window's arg-max from x, so y only has to have the right length; average pooling reads
    /// neither). With <paramref name="reluMask"/>, x is a relu's output and dx also goes through the relu's
    /// backward: 0 wherever x &lt;= 0, exactly as <c>_backward_relu(x, dx)</c> after the pooling's backward, applied to
    /// each plane right after it is written (while it is in cache) instead of in a second pass over memory.
    /// </summary>
    public static void Backward<T>(
        PoolingDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx,
        bool reluMask = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        string op = desc.OpName;
        CheckElementType<T>(op);
        CheckLength(desc, "input x", x.Length, desc.InputLength, desc.InputShape);
        CheckLength(desc, "output y", y.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "output gradient dy", dy.Length, desc.OutputLength, desc.OutputShape);
        CheckLength(desc, "input gradient dx", dx.Length, desc.InputLength, desc.InputShape);
        ReadOnlySpan<T> dxRead = dx;
        if (dxRead.Overlaps(x) || dxRead.Overlaps(y) || dxRead.Overlaps(dy))
            throw new ArgumentException(
                $"{op}: input gradient dx overlaps x, y or dy; pass a separate buffer for dx.");
        BackwardCore(desc, x, dy, dx, reluMask);
    }

    private static void CheckElementType<T>(string op)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new ArgumentException(
                $"{op}: element type {typeof(T).Name} is not supported; use float or double.");
    }

    private static void CheckLength(PoolingDescriptor d, string what, int actual, long expected, Shape shape)
    {
        if (actual != expected)
            throw new ArgumentException(
                $"{d.OpName}: {what} has {actual} elements but {d} needs {expected} (shape {shape}); " +
                "pass a buffer of exactly that length.");
    }

    private static unsafe void ForwardCore<T>(PoolingDescriptor d, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long planes = (long)d.N * d.C;
        if (planes == 0) return;
        int inPlane = d.H * d.W, outPlane = d.OutH * d.OutW;
        long grain = Math.Max(1, GrainOps / Math.Max(1, PlaneOps(d)));
        fixed (T* px = x, py = y)
        {
            nint ax = (nint)px, ay = (nint)py;
            CpuParallel.For(planes, grain, (start, end) =>
            {
                for (long p = start; p < end; p++)
                {
                    ForwardPlane(d,
                        new ReadOnlySpan<T>((T*)ax + p * inPlane, inPlane),
                        new Span<T>((T*)ay + p * outPlane, outPlane));
                }
            });
        }
    }

    private static unsafe void BackwardCore<T>(PoolingDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx,
        bool reluMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long planes = (long)d.N * d.C;
        if (planes == 0) return;
        int inPlane = d.H * d.W, outPlane = d.OutH * d.OutW;
        long grain = Math.Max(1, GrainOps / Math.Max(1, PlaneOps(d)));
        fixed (T* px = x, pdy = dy, pdx = dx)
        {
            nint ax = (nint)px, ady = (nint)pdy, adx = (nint)pdx;
            int batch = typeof(T) == typeof(float) ? PlanesPerNarrowBatch(d) : 0;
            CpuParallel.For(planes, grain, (start, end) =>
            {
                for (long p = start; p < end; p++)
                {
                    if (batch > 0)
                    {
                        // Several whole planes as one tall plane: their row pairs follow each other in memory, and
                        // no window crosses a plane, so they stage and run together (NaN: plane by plane below).
                        int count = (int)Math.Min(batch, end - p);
                        if (MaxPool2x2BackwardNarrow(
                                new ReadOnlySpan<float>((float*)ax + p * inPlane, count * inPlane),
                                new ReadOnlySpan<float>((float*)ady + p * outPlane, count * outPlane),
                                new Span<float>((float*)adx + p * inPlane, count * inPlane), d.W, count * d.H / 2))
                        {
                            if (reluMask)
                                MaskNonPositive(new ReadOnlySpan<T>((T*)ax + p * inPlane, count * inPlane),
                                    new Span<T>((T*)adx + p * inPlane, count * inPlane));
                            p += count - 1;
                            continue;
                        }
                    }
                    BackwardPlane(d,
                        new ReadOnlySpan<T>((T*)ax + p * inPlane, inPlane),
                        new ReadOnlySpan<T>((T*)ady + p * outPlane, outPlane),
                        new Span<T>((T*)adx + p * inPlane, inPlane));
                    if (reluMask)
                        MaskNonPositive(new ReadOnlySpan<T>((T*)ax + p * inPlane, inPlane),
                            new Span<T>((T*)adx + p * inPlane, inPlane));
                }
            });
        }
    }

    /// <summary>
    /// dx = 0 where x &lt;= 0 (relu's backward, the same select as <c>ReluBackwardOperator</c>), in Vector512 lanes
    /// wherever there are vectors (<see cref="CpuInstructionSet.Vector512LoopsPay"/>).
    /// </summary>
    private static void MaskNonPositive<T>(ReadOnlySpan<T> x, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            for (; i + Vector512<T>.Count <= x.Length; i += Vector512<T>.Count)
            {
                var keep = Vector512.LessThanOrEqual(Vector512.Create(x.Slice(i, Vector512<T>.Count)),
                    Vector512<T>.Zero);
                Vector512.ConditionalSelect(keep, Vector512<T>.Zero, Vector512.Create(dx.Slice(i, Vector512<T>.Count)))
                    .CopyTo(dx.Slice(i, Vector512<T>.Count));
            }
        }
        for (; i < x.Length; i++)
        {
            if (x[i] <= T.Zero) dx[i] = T.Zero;
        }
    }

    /// <summary>
    /// Planes per call of <see cref="MaxPool2x2BackwardNarrow"/> for a 2x2 stride-2 max pool whose planes have even
    /// sides and rows that are not whole window vectors (16 windows with AVX-512, 8 with AVX2: LeNet's 24x24 and 8x8
    /// planes have 12 and 4): as many whole planes as its staging holds (the in-place form takes as many), or 0 when
    /// the layer does not qualify. Per-plane calls cost more than the work of an 8x8 plane.
    /// </summary>
    private static int PlanesPerNarrowBatch(PoolingDescriptor d)
    {
        bool qualifies = d is { Mode: PoolingMode.Max, IsGlobal: false, KernelH: 2, KernelW: 2, StrideH: 2,
            StrideW: 2, PadH: 0, PadW: 0 } && d.H % 2 == 0 && d.W % 2 == 0 && d.OutH == d.H / 2 &&
            d.OutW == d.W / 2 && (d.W / 2) % WindowsPerVector != 0 && d.H * d.W <= MaxPackedPlane &&
            WindowsPerVector > 1;
        return qualifies ? MaxPackedPlane / (d.H * d.W) : 0;
    }

    // Rough cost of one plane: every input read once, plus every window element.
    private static long PlaneOps(PoolingDescriptor d) =>
        Math.Max((long)d.H * d.W, (long)d.OutH * d.OutW * d.KernelH * d.KernelW);

    private static void ForwardPlane<T>(PoolingDescriptor d, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.IsGlobal)
        {
            y[0] = d.Mode == PoolingMode.Max ? PlaneMax(x) : PlaneSum(x) / T.CreateChecked(x.Length);
            return;
        }
        if (d.Mode == PoolingMode.Avg)
        {
            AvgWindows(d, x, y);
            return;
        }
        bool is2x2 = d is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0 };
        if (typeof(T) == typeof(float) && is2x2 && Uses2x2Vectors)
        {
            // Windows wholly inside the input take the SIMD path; 'full' adds a clipped last row and column.
            int rows = d.H / 2, cols = d.W / 2;
            MaxPool2x2(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), d.W, d.OutW, rows, cols);
            MaxWindows(d, x, y, rows, d.OutH, 0, d.OutW);
            MaxWindows(d, x, y, 0, rows, cols, d.OutW);
            return;
        }
        MaxWindows(d, x, y, 0, d.OutH, 0, d.OutW);
    }

    private static void BackwardPlane<T>(PoolingDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.IsGlobal && d.Mode == PoolingMode.Avg)
        {
            dx.Fill(dy[0] / T.CreateChecked(dx.Length));
            return;
        }
        dx.Clear();
        if (d.Mode == PoolingMode.Avg)
        {
            AvgWindowsBackward(d, dy, dx);
            return;
        }
        bool is2x2 = d is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0, IsGlobal: false };
        if (typeof(T) == typeof(float) && is2x2)
        {
            int rows = d.H / 2, cols = d.W / 2;
            if (cols % WindowsPerVector != 0 && d.W % 2 == 0 && d.OutW == cols && rows * d.W <= MaxPackedPlane &&
                WindowsPerVector > 1 &&
                MaxPool2x2BackwardNarrow(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(dy),
                    MemoryMarshal.Cast<T, float>(dx), d.W, rows))
            {
                MaxWindowsBackward(d, x, dy, dx, rows, d.OutH, 0, d.OutW);
                return;
            }
            MaxPool2x2Backward(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(dy),
                MemoryMarshal.Cast<T, float>(dx), d.W, d.OutW, rows, cols);
            MaxWindowsBackward(d, x, dy, dx, rows, d.OutH, 0, d.OutW);
            MaxWindowsBackward(d, x, dy, dx, 0, rows, cols, d.OutW);
            return;
        }
        MaxWindowsBackward(d, x, dy, dx, 0, d.OutH, 0, d.OutW);
    }

    // 2x2 stride-2 windows wholly inside the input: the gradient goes to the first maximum of the four (ties keep
    // the earlier element, the top row before the bottom one). Random data makes any branch on the comparison
    // mispredict half the time, so the choice is computed: 16 windows at once with AVX-512, 8 with AVX2, 4 with SSE
    // or ARM64's AdvSimd (deinterleave, compare, select, interleave), else one window at a time with integer
    // arithmetic. Windows holding a NaN take the scan.
    private static void MaxPool2x2Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int width,
        int outW, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var x0 = x.Slice(2 * r * width, width);
            var x1 = x.Slice((2 * r + 1) * width, width);
            var d0 = dx.Slice(2 * r * width, width);
            var d1 = dx.Slice((2 * r + 1) * width, width);
            var g = dy.Slice(r * outW, cols);
            int c = MaxPool2x2BackwardRowVectors(x0, x1, g, d0, d1, cols);
            for (; c < cols; c++)
            {
                // All four elements are written, so the caller need not clear dx.
                float a = x0[2 * c], b = x0[2 * c + 1], e = x1[2 * c], f = x1[2 * c + 1];
                d0[2 * c] = d0[2 * c + 1] = d1[2 * c] = d1[2 * c + 1] = 0f;
                if (float.IsNaN(a) || float.IsNaN(b) || float.IsNaN(e) || float.IsNaN(f))
                {
                    dx[WindowArgMax(x, width, 2 * r, 2 * r + 2, 2 * c, 2 * c + 2)] = g[c];
                    continue;
                }
                int w = Window2x2ArgMax(a, b, e, f);
                (w < 2 ? d0 : d1)[2 * c + (w & 1)] = g[c];
            }
        }
    }

    /// <summary>
    /// Which of a NaN-free 2x2 window's elements (a b / e f, numbered 0 to 3) is its first maximum, computed without
    /// branches: ties keep the earlier element, the top row before the bottom one.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int Window2x2ArgMax(float a, float b, float e, float f)
    {
        int top = b > a ? 1 : 0, bottom = f > e ? 1 : 0;
        int lower = MathF.Max(e, f) > MathF.Max(a, b) ? 1 : 0;
        return (1 - lower) * top + lower * (2 + bottom);
    }

    /// <summary>
    /// Most elements of a plane's whole row pairs that <see cref="MaxPool2x2BackwardNarrow"/> stages.
    /// </summary>
    private const int MaxPackedPlane = 2048;

    /// <summary>
    /// The 2x2 backward of narrow planes (LeNet's 24- and 8-wide ones have 12 and 4 windows a row, too few for the
    /// 16-window vectors), one plane or several as one tall plane. 8-wide planes run two row pairs at a time
    /// (<see cref="MaxPool2x2BackwardWidth8"/>), and rows of a multiple of four windows run in place
    /// (<see cref="MaxPool2x2Backward"/>, every element of dx written). Otherwise the top and bottom rows of every row
    /// pair are staged as two long rows, whose windows are then the plane's windows in order (dy read straight
    /// through), run a vector at a time, and scattered back; false, with dx untouched, when a NaN turns up: the
    /// caller's window-by-window path handles those. The callers run this with AVX2 or AVX-512 only.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit] // every staged element is written before it is read
    private static bool MaxPool2x2BackwardNarrow(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx,
        int width, int rows)
    {
        if (width == 8)
        {
            MaxPool2x2BackwardWidth8(x, dy, dx, rows);
            return true;
        }
        if (width / 2 % 4 == 0)
        {
            // Rows of whole four-window vectors need no staging (see MaxPool2x2BackwardRow4). With AVX-512 too:
            // LeNet's first pool backward (256 x 6 x 24 x 24), one thread, took 0.54-0.55 ms in place against
            // 0.59-0.69 staged, in three rounds in turns.
            MaxPool2x2Backward(x, dy, dx, width, width / 2, rows, width / 2);
            return true;
        }
        int n = rows * width, windows = n / 2;
        Span<float> top = stackalloc float[n], bottom = stackalloc float[n];
        Span<float> dTop = stackalloc float[n], dBottom = stackalloc float[n];
        CopyRows(x, 2 * width, top, width, width, rows);
        CopyRows(x.Slice(width), 2 * width, bottom, width, width, rows);
        var g = dy.Slice(0, windows);
        int done = MaxPool2x2BackwardRowVectors(top, bottom, g, dTop, dBottom, windows);
        if (done < windows / WindowsPerVector * WindowsPerVector) return false;
        for (int c = done; c < windows; c++)
        {
            float a = top[2 * c], b = top[2 * c + 1], e = bottom[2 * c], f = bottom[2 * c + 1];
            if (float.IsNaN(a) || float.IsNaN(b) || float.IsNaN(e) || float.IsNaN(f)) return false;
            int w = Window2x2ArgMax(a, b, e, f);
            dTop[2 * c] = w == 0 ? g[c] : 0;
            dTop[2 * c + 1] = w == 1 ? g[c] : 0;
            dBottom[2 * c] = w == 2 ? g[c] : 0;
            dBottom[2 * c + 1] = w == 3 ? g[c] : 0;
        }
        CopyRows(dTop, width, dx, 2 * width, width, rows);
        CopyRows(dBottom, width, dx.Slice(width), 2 * width, width, rows);
        return true;
    }

    /// <summary><paramref name="rows"/> rows of <paramref name="width"/> values from src to dst, each with its own row
    /// stride: staging (strided to packed) and scattering back (packed to strided).</summary>
    private static void CopyRows(ReadOnlySpan<float> src, int srcStride, Span<float> dst, int dstStride, int width,
        int rows)
    {
        if (width % 8 != 0)
        {
            for (int r = 0; r < rows; r++) src.Slice(r * srcStride, width).CopyTo(dst.Slice(r * dstStride));
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < width; i += 8)
                Vector256.Create(src.Slice(r * srcStride + i, 8)).CopyTo(dst.Slice(r * dstStride + i));
        }
    }

    private static readonly Vector512<int> EvenLanes =
        Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> OddLanes = EvenLanes + Vector512<int>.One;
    private static readonly Vector512<int> InterleaveLow =
        Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = InterleaveLow + Vector512.Create(8);

    /// <summary>Windows the 2x2 backward takes at once: 16 (AVX-512), 8 (AVX2) or 1 (no vectors).</summary>
    private static int WindowsPerVector => Avx512F.IsSupported ? 16 : Avx2.IsSupported ? 8 : 1;

    /// <summary>The windows of a row pair the vector path takes (16 or 8 at a time); returns how many.</summary>
    private static int MaxPool2x2BackwardRowVectors(ReadOnlySpan<float> x0, ReadOnlySpan<float> x1,
        ReadOnlySpan<float> g, Span<float> d0, Span<float> d1, int cols)
    {
        int c = Avx512F.IsSupported ? MaxPool2x2BackwardRow16(x0, x1, g, d0, d1, cols) : 0;
        if (Avx2.IsSupported) c = MaxPool2x2BackwardRow8(x0, x1, g, d0, d1, c, cols);
        return HasPairs128 ? MaxPool2x2BackwardRow4(x0, x1, g, d0, d1, c, cols) : c;
    }

    /// <summary>Whether the 4-window steps run: SSE, and ARM64's AdvSimd (see <see cref="Lanes128"/>).</summary>
    private static bool HasPairs128 => Lanes128.IsSupported;

    /// <summary>Whether the 2x2 max-pool forward takes windows wholly inside the input in vectors.</summary>
    private static bool Uses2x2Vectors => Vector256.IsHardwareAccelerated || HasPairs128;

    /// <summary>
    /// <see cref="MaxPool2x2BackwardRow8"/> with SSE or ARM64's AdvSimd (<see cref="Lanes128"/>), 4 windows at a
    /// time from window <paramref name="c"/>: the last windows of a row past the wider vectors (LeNet's rows of 12
    /// and 4 windows end in 4; on ARM64 every window), the same comparisons and selections. With it AVX2 runs such
    /// rows in place: staged into long rows for the 8-window vectors they spent half their time in the copies. LeNet's pool backward at batch 256, one thread, fastest ms: 24x24 planes
    /// 0.86-0.88 -> 0.41-0.45 (PyTorch 0.48-0.52), 8x8 planes 0.33-0.34 -> 0.19-0.21 (PyTorch 0.15).
    /// </summary>
    private static int MaxPool2x2BackwardRow4(ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> g,
        Span<float> d0, Span<float> d1, int c, int cols)
    {
        for (; c + 4 <= cols; c += 4)
        {
            var r0lo = Vector128.Create(x0.Slice(2 * c, 4));
            var r0hi = Vector128.Create(x0.Slice(2 * c + 4, 4));
            var r1lo = Vector128.Create(x1.Slice(2 * c, 4));
            var r1hi = Vector128.Create(x1.Slice(2 * c + 4, 4));
            var nan = ~(Vector128.Equals(r0lo, r0lo) & Vector128.Equals(r0hi, r0hi) & Vector128.Equals(r1lo, r1lo) &
                        Vector128.Equals(r1hi, r1hi));
            if (nan != Vector128<float>.Zero) break;
            var a = Lanes128.EvenOf(r0lo, r0hi);
            var b = Lanes128.OddOf(r0lo, r0hi);
            var e = Lanes128.EvenOf(r1lo, r1hi);
            var f = Lanes128.OddOf(r1lo, r1hi);
            var top = Vector128.GreaterThan(b, a);
            var bottom = Vector128.GreaterThan(f, e);
            var lower = Vector128.GreaterThan(Vector128.Max(e, f), Vector128.Max(a, b));
            var grad = Vector128.Create(g.Slice(c, 4));
            var ga = Vector128.AndNot(Vector128.AndNot(grad, lower), top);
            var gb = Vector128.AndNot(grad & top, lower);
            var ge = Vector128.AndNot(grad & lower, bottom);
            var gf = grad & lower & bottom;
            Lanes128.ZipLow(ga, gb).CopyTo(d0.Slice(2 * c, 4));
            Lanes128.ZipHigh(ga, gb).CopyTo(d0.Slice(2 * c + 4, 4));
            Lanes128.ZipLow(ge, gf).CopyTo(d1.Slice(2 * c, 4));
            Lanes128.ZipHigh(ge, gf).CopyTo(d1.Slice(2 * c + 4, 4));
        }
        return c;
    }

    /// <summary>
    /// <see cref="MaxPool2x2BackwardRow16"/> with AVX2, 8 windows at a time: the same comparisons and selections,
    /// so the same gradient.
    /// </summary>
    private static int MaxPool2x2BackwardRow8(ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> g,
        Span<float> d0, Span<float> d1, int c, int cols)
    {
        for (; c + 8 <= cols; c += 8)
        {
            var r0lo = Vector256.Create(x0.Slice(2 * c, 8));
            var r0hi = Vector256.Create(x0.Slice(2 * c + 8, 8));
            var r1lo = Vector256.Create(x1.Slice(2 * c, 8));
            var r1hi = Vector256.Create(x1.Slice(2 * c + 8, 8));
            var nan = ~(Vector256.Equals(r0lo, r0lo) & Vector256.Equals(r0hi, r0hi) & Vector256.Equals(r1lo, r1lo) &
                        Vector256.Equals(r1hi, r1hi));
            if (nan != Vector256<float>.Zero) break;
            var a = EvenOf(r0lo, r0hi);
            var b = OddOf(r0lo, r0hi);
            var e = EvenOf(r1lo, r1hi);
            var f = OddOf(r1lo, r1hi);
            var (ga, gb, ge, gf) = WindowGradients8(a, b, e, f, Vector256.Create(g.Slice(c, 8)));
            StoreWindows8(ga, gb, ge, gf, d0, d1, c);
        }
        return c;
    }

    /// <summary>
    /// Eight NaN-free windows' gradients by element, given their top-left, top-right, bottom-left and bottom-right
    /// values and their dy: all of dy to each window's first maximum (ties keep the earlier element, the top row
    /// before the bottom one), zero elsewhere. For <see cref="MaxPool2x2BackwardRow8"/> and
    /// <see cref="MaxPool2x2BackwardWidth8"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Ga, Vector256<float> Gb, Vector256<float> Ge, Vector256<float> Gf)
        WindowGradients8(Vector256<float> a, Vector256<float> b, Vector256<float> e, Vector256<float> f,
            Vector256<float> grad)
    {
        var top = Vector256.GreaterThan(b, a);
        var bottom = Vector256.GreaterThan(f, e);
        var lower = Vector256.GreaterThan(Vector256.Max(e, f), Vector256.Max(a, b));
        return (Vector256.AndNot(Vector256.AndNot(grad, lower), top), Vector256.AndNot(grad & top, lower),
            Vector256.AndNot(grad & lower, bottom), grad & lower & bottom);
    }

    /// <summary>
    /// Stores the gradients of eight 2x2 windows, given per window position (top-left ga, top-right gb, bottom-left
    /// ge, bottom-right gf), to 16 floats of each input row from 2c: interleaved within 128-bit lanes, then the
    /// lanes put in order, (ga0 gb0 .. ga3 gb3), (ga4 gb4 ..).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void StoreWindows8(Vector256<float> ga, Vector256<float> gb, Vector256<float> ge,
        Vector256<float> gf, Span<float> d0, Span<float> d1, int c)
    {
        Vector256<float> lo = Avx.UnpackLow(ga, gb), hi = Avx.UnpackHigh(ga, gb);
        Avx.Permute2x128(lo, hi, 0x20).CopyTo(d0.Slice(2 * c, 8));
        Avx.Permute2x128(lo, hi, 0x31).CopyTo(d0.Slice(2 * c + 8, 8));
        lo = Avx.UnpackLow(ge, gf);
        hi = Avx.UnpackHigh(ge, gf);
        Avx.Permute2x128(lo, hi, 0x20).CopyTo(d1.Slice(2 * c, 8));
        Avx.Permute2x128(lo, hi, 0x31).CopyTo(d1.Slice(2 * c + 8, 8));
    }

    // Elements 0, 2, .., 14 of the 16 in lo:hi. Shuffle 0x88 takes elements 0 and 2 of each source per 128-bit lane
    // (lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6); the 64-bit permute 0xD8 (0, 2, 1, 3) puts them in order.
    private static Vector256<float> EvenOf(Vector256<float> lo, Vector256<float> hi) =>
        Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0x88).AsDouble(), 0xD8).AsSingle();

    // Elements 1, 3, .., 15: shuffle 0xDD takes elements 1 and 3.
    private static Vector256<float> OddOf(Vector256<float> lo, Vector256<float> hi) =>
        Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0xDD).AsDouble(), 0xD8).AsSingle();

    /// <summary>Windows 0 .. 16k of a row pair; returns how many windows it handled.</summary>
    private static int MaxPool2x2BackwardRow16(ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> g,
        Span<float> d0, Span<float> d1, int cols)
    {
        int c = 0;
        for (; c + 16 <= cols; c += 16)
        {
            var r0lo = Vector512.Create(x0.Slice(2 * c, 16));
            var r0hi = Vector512.Create(x0.Slice(2 * c + 16, 16));
            var r1lo = Vector512.Create(x1.Slice(2 * c, 16));
            var r1hi = Vector512.Create(x1.Slice(2 * c + 16, 16));
            var nan = ~(Vector512.Equals(r0lo, r0lo) & Vector512.Equals(r0hi, r0hi) & Vector512.Equals(r1lo, r1lo) &
                        Vector512.Equals(r1hi, r1hi));
            if (nan != Vector512<float>.Zero) break;
            var a = Avx512F.PermuteVar16x32x2(r0lo, EvenLanes, r0hi);
            var b = Avx512F.PermuteVar16x32x2(r0lo, OddLanes, r0hi);
            var e = Avx512F.PermuteVar16x32x2(r1lo, EvenLanes, r1hi);
            var f = Avx512F.PermuteVar16x32x2(r1lo, OddLanes, r1hi);
            var top = Vector512.GreaterThan(b, a);
            var bottom = Vector512.GreaterThan(f, e);
            var lower = Vector512.GreaterThan(Vector512.Max(e, f), Vector512.Max(a, b));
            var grad = Vector512.Create(g.Slice(c, 16));
            var ga = Vector512.AndNot(Vector512.AndNot(grad, lower), top);
            var gb = Vector512.AndNot(grad & top, lower);
            var ge = Vector512.AndNot(grad & lower, bottom);
            var gf = grad & lower & bottom;
            Avx512F.PermuteVar16x32x2(ga, InterleaveLow, gb).CopyTo(d0.Slice(2 * c, 16));
            Avx512F.PermuteVar16x32x2(ga, InterleaveHigh, gb).CopyTo(d0.Slice(2 * c + 16, 16));
            Avx512F.PermuteVar16x32x2(ge, InterleaveLow, gf).CopyTo(d1.Slice(2 * c, 16));
            Avx512F.PermuteVar16x32x2(ge, InterleaveHigh, gf).CopyTo(d1.Slice(2 * c + 16, 16));
        }
        return c;
    }

    // The window of output (oh, ow) along one axis, as [start, end) clipped to the input, and for averaging the
    // window's extent clipped to the padded input (MXNet's divisor with count_include_pad).
    private static (int Start, int End, int PaddedExtent) WindowRange(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad;
        int paddedEnd = Math.Min(start + kernel, size + pad);
        return (Math.Max(start, 0), Math.Min(paddedEnd, size), paddedEnd - start);
    }

    private static void MaxWindows<T>(
        PoolingDescriptor d, ReadOnlySpan<T> x, Span<T> y, int oh0, int oh1, int ow0, int ow1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = oh0; oh < oh1; oh++)
        {
            var (hs, he, _) = WindowRange(oh, d.StrideH, d.PadH, d.KernelH, d.H);
            for (int ow = ow0; ow < ow1; ow++)
            {
                var (ws, we, _) = WindowRange(ow, d.StrideW, d.PadW, d.KernelW, d.W);
                // A 'full' window past the input holds no element: it pools nothing (see PoolingDescriptor).
                y[oh * d.OutW + ow] = hs < he && ws < we ? WindowMax(x, d.W, hs, he, ws, we) : T.Zero;
            }
        }
    }

    private static void MaxWindowsBackward<T>(PoolingDescriptor d, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx,
        int oh0, int oh1, int ow0, int ow1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = oh0; oh < oh1; oh++)
        {
            var (hs, he, _) = WindowRange(oh, d.StrideH, d.PadH, d.KernelH, d.H);
            for (int ow = ow0; ow < ow1; ow++)
            {
                var (ws, we, _) = WindowRange(ow, d.StrideW, d.PadW, d.KernelW, d.W);
                if (hs < he && ws < we)
                    dx[WindowArgMax(x, d.W, hs, he, ws, we)] += dy[oh * d.OutW + ow];
            }
        }
    }

    // The window's maximum: IEEE max, so NaN propagates. Branch-free, so several times faster on random data than
    // the compare-and-remember-index scan of WindowArgMax, which mispredicts on every new maximum.
    private static T WindowMax<T>(ReadOnlySpan<T> x, int width, int hs, int he, int ws, int we)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = x[hs * width + ws];
        for (int h = hs; h < he; h++)
        {
            foreach (T v in x.Slice(h * width + ws, we - ws)) max = T.Max(max, v);
        }
        return max;
    }

    // Index of the window's first maximal element in row-major order, or of its first NaN: the element whose
    // value WindowMax returns (up to the sign of a zero).
    private static int WindowArgMax<T>(ReadOnlySpan<T> x, int width, int hs, int he, int ws, int we)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int best = hs * width + ws;
        T max = x[best];
        if (T.IsNaN(max)) return best;
        for (int h = hs; h < he; h++)
        {
            int rowStart = h * width + ws;
            ReadOnlySpan<T> row = x.Slice(rowStart, we - ws);
            for (int i = 0; i < row.Length; i++)
            {
                T v = row[i];
                if (v > max)
                {
                    max = v;
                    best = rowStart + i;
                }
                else if (T.IsNaN(v))
                {
                    return rowStart + i;
                }
            }
        }
        return best;
    }

    private static void AvgWindows<T>(PoolingDescriptor d, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = 0; oh < d.OutH; oh++)
        {
            var (hs, he, hp) = WindowRange(oh, d.StrideH, d.PadH, d.KernelH, d.H);
            for (int ow = 0; ow < d.OutW; ow++)
            {
                var (ws, we, wp) = WindowRange(ow, d.StrideW, d.PadW, d.KernelW, d.W);
                if (hs >= he || ws >= we)
                {
                    y[oh * d.OutW + ow] = T.Zero;
                    continue;
                }
                T sum = T.Zero;
                for (int h = hs; h < he; h++)
                {
                    foreach (T v in x.Slice(h * d.W + ws, we - ws)) sum += v;
                }
                int count = d.CountIncludePad ? hp * wp : (he - hs) * (we - ws);
                y[oh * d.OutW + ow] = sum / T.CreateChecked(count);
            }
        }
    }

    private static void AvgWindowsBackward<T>(PoolingDescriptor d, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = 0; oh < d.OutH; oh++)
        {
            var (hs, he, hp) = WindowRange(oh, d.StrideH, d.PadH, d.KernelH, d.H);
            for (int ow = 0; ow < d.OutW; ow++)
            {
                var (ws, we, wp) = WindowRange(ow, d.StrideW, d.PadW, d.KernelW, d.W);
                if (hs >= he || ws >= we) continue;
                int count = d.CountIncludePad ? hp * wp : (he - hs) * (we - ws);
                T g = dy[oh * d.OutW + ow] / T.CreateChecked(count);
                for (int h = hs; h < he; h++)
                {
                    Span<T> row = dx.Slice(h * d.W + ws, we - ws);
                    for (int i = 0; i < row.Length; i++) row[i] += g;
                }
            }
        }
    }

    // 2x2 stride-2 max over the first `rows` x `cols` outputs (windows wholly inside the input): the max of two
    // input rows, then the max of each adjacent pair, which a shuffle splits into even and odd lanes.
    private static void MaxPool2x2(ReadOnlySpan<float> x, Span<float> y, int width, int outW, int rows, int cols)
    {
        for (int oh = 0; oh < rows; oh++)
        {
            ref float r0 = ref MemoryMarshal.GetReference(x.Slice(2 * oh * width, width));
            ref float r1 = ref MemoryMarshal.GetReference(x.Slice((2 * oh + 1) * width, width));
            Span<float> outRow = y.Slice(oh * outW, cols);
            ref float o = ref MemoryMarshal.GetReference(outRow);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var evenOdd = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
                for (; j <= cols - 16; j += 16)
                {
                    nuint i = (nuint)(2 * j);
                    var a = Vector512.Shuffle(Vector512.Max(
                        Vector512.LoadUnsafe(ref r0, i), Vector512.LoadUnsafe(ref r1, i)), evenOdd);
                    var b = Vector512.Shuffle(Vector512.Max(
                        Vector512.LoadUnsafe(ref r0, i + 16), Vector512.LoadUnsafe(ref r1, i + 16)), evenOdd);
                    Vector512.Create(
                        Vector256.Max(a.GetLower(), a.GetUpper()),
                        Vector256.Max(b.GetLower(), b.GetUpper())).StoreUnsafe(ref o, (nuint)j);
                }
            }
            var evenOdd8 = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            for (; Vector256.IsHardwareAccelerated && j <= cols - 8; j += 8)
            {
                nuint i = (nuint)(2 * j);
                var a = Vector256.Shuffle(Vector256.Max(
                    Vector256.LoadUnsafe(ref r0, i), Vector256.LoadUnsafe(ref r1, i)), evenOdd8);
                var b = Vector256.Shuffle(Vector256.Max(
                    Vector256.LoadUnsafe(ref r0, i + 8), Vector256.LoadUnsafe(ref r1, i + 8)), evenOdd8);
                Vector256.Create(
                    Vector128.Max(a.GetLower(), a.GetUpper()),
                    Vector128.Max(b.GetLower(), b.GetUpper())).StoreUnsafe(ref o, (nuint)j);
            }
            for (; HasPairs128 && j <= cols - 4; j += 4)
            {
                // ARM64 (AdvSimd) and the forced Vector128 path: four windows from two vectors of each row.
                nuint i = (nuint)(2 * j);
                var lo = Vector128.Max(Vector128.LoadUnsafe(ref r0, i), Vector128.LoadUnsafe(ref r1, i));
                var hi = Vector128.Max(Vector128.LoadUnsafe(ref r0, i + 4), Vector128.LoadUnsafe(ref r1, i + 4));
                Vector128.Max(Lanes128.EvenOf(lo, hi), Lanes128.OddOf(lo, hi)).StoreUnsafe(ref o, (nuint)j);
            }
            ReadOnlySpan<float> row0 = x.Slice(2 * oh * width, width), row1 = x.Slice((2 * oh + 1) * width, width);
            for (; j < cols; j++)
                outRow[j] = Max4(row0[2 * j], row0[2 * j + 1], row1[2 * j], row1[2 * j + 1]);
        }
    }

    // Same value as the vector path: IEEE maximum, NaN propagates.
    private static float Max4(float a, float b, float c, float d) =>
        float.Max(float.Max(a, c), float.Max(b, d));

    private static T PlaneSum<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        int i = 0;
        T sum = T.Zero;
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<T>.Count)
        {
            var acc = Vector512<T>.Zero;
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count)
                acc += Vector512.LoadUnsafe(ref r, (nuint)i);
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            var acc = Vector256<T>.Zero;
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                acc += Vector256.LoadUnsafe(ref r, (nuint)i);
            sum = Vector256.Sum(acc);
        }
        else if (Vector128.IsHardwareAccelerated && x.Length >= Vector128<T>.Count)
        {
            var acc = Vector128<T>.Zero;
            for (; i <= x.Length - Vector128<T>.Count; i += Vector128<T>.Count)
                acc += Vector128.LoadUnsafe(ref r, (nuint)i);
            sum = Vector128.Sum(acc);
        }
        for (; i < x.Length; i++) sum += x[i];
        return sum;
    }

    private static T PlaneMax<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        int i = 0;
        T max = T.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<T>.Count)
        {
            var acc = Vector512.Create(T.NegativeInfinity);
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count)
                acc = Vector512.Max(acc, Vector512.LoadUnsafe(ref r, (nuint)i));
            for (int k = 0; k < Vector512<T>.Count; k++) max = T.Max(max, acc[k]);
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            var acc = Vector256.Create(T.NegativeInfinity);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref r, (nuint)i));
            for (int k = 0; k < Vector256<T>.Count; k++) max = T.Max(max, acc[k]);
        }
        else if (Vector128.IsHardwareAccelerated && x.Length >= Vector128<T>.Count)
        {
            var acc = Vector128.Create(T.NegativeInfinity);
            for (; i <= x.Length - Vector128<T>.Count; i += Vector128<T>.Count)
                acc = Vector128.Max(acc, Vector128.LoadUnsafe(ref r, (nuint)i));
            for (int k = 0; k < Vector128<T>.Count; k++) max = T.Max(max, acc[k]);
        }
        for (; i < x.Length; i++) max = T.Max(max, x[i]);
        return max;
    }
}
