using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Softmax and log-softmax over one axis of contiguous data viewed as (outer, axisLength, inner), and their
/// backward passes. With temperature t the input is x / t (MXNet's softmax temperature):
/// <code>
///   softmax(x)_k     = exp((x_k - max) / t) / sum_j exp((x_j - max) / t)
///   log_softmax(x)_k = (x_k - max) / t - log(sum_j exp((x_j - max) / t))
/// </code>
/// Subtracting the row maximum keeps every exponent at most 0, so large logits stay finite. Rows along the last
/// axis (inner = 1) are contiguous and run on Vector512/Vector256 including a vector exp, for float and double;
/// other axes vectorise across the inner dimension, a tile of columns at a time, with the same drivers. The output
/// may be the same span as the input, and dx may be the same span as dy.
/// </summary>
public static unsafe class CpuSoftmax
{
    /// <summary>Elements a thread should have before work is split (~32K: tens of microseconds).</summary>
    private const long Grain = 1 << 15;

    /// <summary>Inner positions processed together when inner > 1: three 256-column buffers (max, sum, scratch;
    /// 6 KB in double) stay in L1 beside the rows being read.</summary>
    private const int Tile = 256;

    /// <summary>y = softmax(x / temperature) along the axis.</summary>
    public static void Softmax<T>(long outer, int axisLength, long inner, ReadOnlySpan<T> x, Span<T> y,
        double temperature = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "softmax";
        CheckSizes(op, outer, axisLength, inner, temperature);
        CheckLength(op, "x", x.Length, outer, axisLength, inner);
        CheckLength(op, "y", y.Length, outer, axisLength, inner);
        fixed (T* px = x, py = y)
        {
            ForwardCore(outer, axisLength, inner, (nint)px, (nint)py, T.CreateTruncating(1 / temperature), false);
        }
    }

    /// <summary>y = log_softmax(x / temperature) along the axis.</summary>
    public static void LogSoftmax<T>(long outer, int axisLength, long inner, ReadOnlySpan<T> x, Span<T> y,
        double temperature = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "log_softmax";
        CheckSizes(op, outer, axisLength, inner, temperature);
        CheckLength(op, "x", x.Length, outer, axisLength, inner);
        CheckLength(op, "y", y.Length, outer, axisLength, inner);
        fixed (T* px = x, py = y)
        {
            ForwardCore(outer, axisLength, inner, (nint)px, (nint)py, T.CreateTruncating(1 / temperature), true);
        }
    }

    /// <summary>Given y = softmax(x / t) and dy: dx = y * (dy - sum(dy * y)) / t.</summary>
    public static void SoftmaxBackward<T>(long outer, int axisLength, long inner, ReadOnlySpan<T> y,
        ReadOnlySpan<T> dy, Span<T> dx, double temperature = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "softmax_backward";
        CheckSizes(op, outer, axisLength, inner, temperature);
        CheckLength(op, "y", y.Length, outer, axisLength, inner);
        CheckLength(op, "dy", dy.Length, outer, axisLength, inner);
        CheckLength(op, "dx", dx.Length, outer, axisLength, inner);
        fixed (T* py = y, pdy = dy, pdx = dx)
        {
            BackwardCore(outer, axisLength, inner, (nint)py, (nint)pdy, (nint)pdx, T.CreateTruncating(1 / temperature),
                false);
        }
    }

    /// <summary>Given y = log_softmax(x / t) and dy: dx = (dy - exp(y) * sum(dy)) / t.</summary>
    public static void LogSoftmaxBackward<T>(long outer, int axisLength, long inner, ReadOnlySpan<T> y,
        ReadOnlySpan<T> dy, Span<T> dx, double temperature = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "log_softmax_backward";
        CheckSizes(op, outer, axisLength, inner, temperature);
        CheckLength(op, "y", y.Length, outer, axisLength, inner);
        CheckLength(op, "dy", dy.Length, outer, axisLength, inner);
        CheckLength(op, "dx", dx.Length, outer, axisLength, inner);
        fixed (T* py = y, pdy = dy, pdx = dx)
        {
            BackwardCore(outer, axisLength, inner, (nint)py, (nint)pdy, (nint)pdx, T.CreateTruncating(1 / temperature),
                true);
        }
    }

    private static void CheckSizes(string op, long outer, int axisLength, long inner, double temperature)
    {
        if (outer < 0 || axisLength < 0 || inner < 0)
            throw new ArgumentOutOfRangeException(nameof(outer),
                $"{op}: sizes must be non-negative, got (outer {outer}, axis {axisLength}, inner {inner}).");
        if (!double.IsFinite(temperature) || temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(temperature),
                $"{op}: temperature must be a positive finite number, got {temperature}; 1 is plain softmax.");
    }

    private static void CheckLength(string op, string name, int length, long outer, int axisLength, long inner)
    {
        Int128 count = (Int128)outer * axisLength * inner;
        if (length != count)
            throw new ArgumentException(
                $"{op}: {name} has {length} elements but (outer {outer}, axis {axisLength}, inner {inner}) needs " +
                $"{count}; pass a contiguous {name} of outer * axis * inner elements.");
    }

    private static void ForwardCore<T>(long outer, int axisLength, long inner, nint x, nint y, T invT, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer * axisLength * inner == 0) return;
        if (inner == 1)
        {
            CpuParallel.For(outer, Math.Max(1, Grain / axisLength), (r0, r1) =>
            {
                for (long r = r0; r < r1; r++)
                {
                    nint offset = (nint)(r * axisLength * sizeof(T));
                    var xr = View<T>(x + offset, axisLength);
                    var yr = View<T>(y + offset, axisLength);
                    if (log) LogSoftmaxRow(xr, yr, invT);
                    else SoftmaxRow(xr, yr, invT, T.One);
                }
            });
            return;
        }
        long tiles = (inner + Tile - 1) / Tile;
        CpuParallel.For(outer * tiles, Math.Max(1, Grain / (axisLength * Math.Min(inner, Tile))), (k0, k1) =>
        {
            Span<T> max = stackalloc T[Tile];
            Span<T> sum = stackalloc T[Tile];
            Span<T> tmp = stackalloc T[Tile];
            for (long k = k0; k < k1; k++)
            {
                long o = k / tiles, i0 = k % tiles * Tile;
                int w = (int)Math.Min(Tile, inner - i0);
                nint xb = x + (nint)((o * axisLength * inner + i0) * sizeof(T));
                nint yb = y + (nint)((o * axisLength * inner + i0) * sizeof(T));
                nint stride = (nint)(inner * sizeof(T));
                ForwardTile(axisLength, w, xb, yb, stride, invT, log, max[..w], sum[..w], tmp[..w]);
            }
        });
    }

    /// <summary>One (axisLength, w) tile of a strided softmax: columns j are contiguous, rows are
    /// <paramref name="stride"/> bytes apart. Each step runs a vector driver along the w columns.</summary>
    private static void ForwardTile<T>(int axisLength, int w, nint x, nint y, nint stride, T invT, bool log,
        Span<T> max, Span<T> sum, Span<T> tmp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        View<T>(x, w).CopyTo(max);
        for (int a = 1; a < axisLength; a++) Map2(max, View<T>(x + a * stride, w), max, new MaxOp<T>());
        sum.Clear();
        for (int a = 0; a < axisLength; a++)
        {
            // softmax keeps exp((x - max) * invT) in y; log-softmax must not write y yet (y may be x).
            var e = log ? tmp : View<T>(y + a * stride, w);
            Map2(View<T>(x + a * stride, w), max, e, new ExpDiffOp<T>(invT));
            Map2(sum, e, sum, new AddOp<T>());
        }
        for (int j = 0; j < w; j++) sum[j] = log ? T.Log(sum[j]) : T.One / sum[j];
        for (int a = 0; a < axisLength; a++)
        {
            var yr = View<T>(y + a * stride, w);
            if (log)
            {
                Map2(View<T>(x + a * stride, w), max, yr, new SubScaleOp<T>(invT));
                Map2(yr, sum, yr, new SubScaleOp<T>(T.One));
            }
            else
            {
                Map2(yr, sum, yr, new MulOp<T>());
            }
        }
    }

    private static void BackwardCore<T>(long outer, int axisLength, long inner, nint y, nint dy, nint dx, T invT,
        bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer * axisLength * inner == 0) return;
        if (inner == 1)
        {
            CpuParallel.For(outer, Math.Max(1, Grain / axisLength), (r0, r1) =>
            {
                for (long r = r0; r < r1; r++)
                {
                    nint offset = (nint)(r * axisLength * sizeof(T));
                    var yr = View<T>(y + offset, axisLength);
                    var dyr = View<T>(dy + offset, axisLength);
                    var dxr = View<T>(dx + offset, axisLength);
                    if (log) Map2(yr, dyr, dxr, new LogSoftmaxGradOp<T>(Reduce(dyr, new IdentityOp<T>()), invT));
                    else Map2(yr, dyr, dxr, new SoftmaxGradOp<T>(Reduce2(yr, dyr, new MulOp<T>()), invT));
                }
            });
            return;
        }
        long tiles = (inner + Tile - 1) / Tile;
        CpuParallel.For(outer * tiles, Math.Max(1, Grain / (axisLength * Math.Min(inner, Tile))), (k0, k1) =>
        {
            Span<T> sum = stackalloc T[Tile];
            Span<T> tmp = stackalloc T[Tile];
            for (long k = k0; k < k1; k++)
            {
                long o = k / tiles, i0 = k % tiles * Tile;
                int w = (int)Math.Min(Tile, inner - i0);
                nint start = (nint)((o * axisLength * inner + i0) * sizeof(T));
                nint stride = (nint)(inner * sizeof(T));
                BackwardTile(axisLength, w, y + start, dy + start, dx + start, stride, invT, log, sum[..w],
                    tmp[..w]);
            }
        });
    }

    private static void BackwardTile<T>(int axisLength, int w, nint y, nint dy, nint dx, nint stride, T invT,
        bool log, Span<T> sum, Span<T> tmp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // sum(dy) for log-softmax, sum(dy * y) for softmax, per column.
        sum.Clear();
        for (int a = 0; a < axisLength; a++)
        {
            var dyr = View<T>(dy + a * stride, w);
            if (!log)
            {
                Map2(dyr, View<T>(y + a * stride, w), tmp, new MulOp<T>());
                dyr = tmp;
            }
            Map2(sum, dyr, sum, new AddOp<T>());
        }
        for (int a = 0; a < axisLength; a++)
        {
            var yr = View<T>(y + a * stride, w);
            var dyr = View<T>(dy + a * stride, w);
            var dxr = View<T>(dx + a * stride, w);
            if (log)
            {
                Map2(yr, sum, tmp, new ExpMulOp<T>());          // exp(y) * sum(dy)
                Map2(dyr, tmp, dxr, new SubScaleOp<T>(invT));   // (dy - exp(y) * sum(dy)) * invT
            }
            else
            {
                Map2(dyr, sum, tmp, new SubScaleOp<T>(invT));   // (dy - sum(dy * y)) * invT
                Map2(tmp, yr, dxr, new MulOp<T>());             // * y
            }
        }
    }

    private static Span<T> View<T>(nint p, long length) where T : unmanaged => new((void*)p, (int)length);

    // ---- Contiguous rows, shared with CpuSoftmaxCrossEntropy. ----

    /// <summary>y = softmax(x * invT) * scale for one contiguous row (y may be x).</summary>
    internal static void SoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, T invT, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = Max(x);
        T sum = MapSum(x, y, new ExpOp<T>(max, invT));
        Map(y, y, new ScaleOp<T>(scale / sum));
    }

    /// <summary>y = log_softmax(x * invT) for one contiguous row (y may be x).</summary>
    internal static void LogSoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, T invT)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = Max(x);
        T sum = Reduce(x, new ExpOp<T>(max, invT));
        Map(x, y, new LogShiftOp<T>(max, invT, T.Log(sum)));
    }

    /// <summary>The row maximum m and sum(exp(x - m)): log(sum(exp(x))) = m + log(sum).</summary>
    internal static (T Max, T SumExp) MaxAndSumExp<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = Max(x);
        return (max, Reduce(x, new ExpOp<T>(max, T.One)));
    }

    // ---- Vector drivers: the loop is written once; an operator struct supplies the math for a scalar, a
    // Vector256 and a Vector512 (the JIT specialises each driver per struct, so nothing is called per element).
    // Vector paths run for float and double; other element types take the scalar loop. ----

    private interface IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        T Invoke(T x);

        Vector128<T> Invoke(Vector128<T> x);

        Vector256<T> Invoke(Vector256<T> x);

        Vector512<T> Invoke(Vector512<T> x);
    }

    private interface IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        T Invoke(T a, T b);

        Vector128<T> Invoke(Vector128<T> a, Vector128<T> b);

        Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);

        Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);
    }

    private static bool Use512<T>() where T : unmanaged =>
        Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;

    private static bool Use256<T>() where T : unmanaged =>
        Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;

    /// <summary>ARM64's AdvSimd: only where no wider vectors run, so x86 keeps its order of summation.</summary>
    private static bool Use128<T>() where T : unmanaged =>
        !Vector256.IsHardwareAccelerated && Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported;

    private static T Max<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T p = ref MemoryMarshal.GetReference(x);
        int i = 0, n = x.Length;
        T m = T.NegativeInfinity;
        if (Use512<T>() && n >= Vector512<T>.Count)
        {
            var v = Vector512.LoadUnsafe(ref p);
            for (i = Vector512<T>.Count; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                v = Vector512.Max(v, Vector512.LoadUnsafe(ref p, (nuint)i));
            m = HorizontalMax(Vector256.Max(v.GetLower(), v.GetUpper()));
        }
        else if (Use256<T>() && n >= Vector256<T>.Count)
        {
            var v = Vector256.LoadUnsafe(ref p);
            for (i = Vector256<T>.Count; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                v = Vector256.Max(v, Vector256.LoadUnsafe(ref p, (nuint)i));
            m = HorizontalMax(v);
        }
        else if (Use128<T>() && n >= Vector128<T>.Count)
        {
            var v = Vector128.LoadUnsafe(ref p);
            for (i = Vector128<T>.Count; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                v = Vector128.Max(v, Vector128.LoadUnsafe(ref p, (nuint)i));
            m = HorizontalMax(v);
        }
        for (; i < n; i++) m = T.Max(m, Unsafe.Add(ref p, i));
        return m;
    }

    private static T HorizontalMax<T>(Vector256<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T m = v[0];
        for (int k = 1; k < Vector256<T>.Count; k++) m = T.Max(m, v[k]);
        return m;
    }

    private static T HorizontalMax<T>(Vector128<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T m = v[0];
        for (int k = 1; k < Vector128<T>.Count; k++) m = T.Max(m, v[k]);
        return m;
    }

    private static void Map<T, TOp>(ReadOnlySpan<T> x, Span<T> y, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp<T>
    {
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        if (Use512<T>())
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        if (Use256<T>())
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        if (Use128<T>())
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                op.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref py, i) = op.Invoke(Unsafe.Add(ref px, i));
    }

    /// <summary>y = op(x); returns sum(y).</summary>
    private static T MapSum<T, TOp>(ReadOnlySpan<T> x, Span<T> y, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp<T>
    {
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        T s = T.Zero;
        if (Use512<T>())
        {
            var acc = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = op.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i));
                v.StoreUnsafe(ref py, (nuint)i);
                acc += v;
            }
            s = Vector512.Sum(acc);
        }
        if (Use256<T>())
        {
            var acc = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = op.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i));
                v.StoreUnsafe(ref py, (nuint)i);
                acc += v;
            }
            s += Vector256.Sum(acc);
        }
        if (Use128<T>())
        {
            var acc = Vector128<T>.Zero;
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                var v = op.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i));
                v.StoreUnsafe(ref py, (nuint)i);
                acc += v;
            }
            s += Vector128.Sum(acc);
        }
        for (; i < n; i++)
        {
            T v = op.Invoke(Unsafe.Add(ref px, i));
            Unsafe.Add(ref py, i) = v;
            s += v;
        }
        return s;
    }

    /// <summary>sum(op(x)).</summary>
    private static T Reduce<T, TOp>(ReadOnlySpan<T> x, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp<T>
    {
        ref T px = ref MemoryMarshal.GetReference(x);
        int i = 0, n = x.Length;
        T s = T.Zero;
        if (Use512<T>())
        {
            var acc = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                acc += op.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i));
            s = Vector512.Sum(acc);
        }
        if (Use256<T>())
        {
            var acc = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                acc += op.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i));
            s += Vector256.Sum(acc);
        }
        if (Use128<T>())
        {
            var acc = Vector128<T>.Zero;
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                acc += op.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i));
            s += Vector128.Sum(acc);
        }
        for (; i < n; i++) s += op.Invoke(Unsafe.Add(ref px, i));
        return s;
    }

    private static void Map2<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp<T>
    {
        ref T pa = ref MemoryMarshal.GetReference(a);
        ref T pb = ref MemoryMarshal.GetReference(b);
        ref T py = ref MemoryMarshal.GetReference(y);
        int i = 0, n = a.Length;
        if (Use512<T>())
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i))
                    .StoreUnsafe(ref py, (nuint)i);
            }
        }
        if (Use256<T>())
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i))
                    .StoreUnsafe(ref py, (nuint)i);
            }
        }
        if (Use128<T>())
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                op.Invoke(Vector128.LoadUnsafe(ref pa, (nuint)i), Vector128.LoadUnsafe(ref pb, (nuint)i))
                    .StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref py, i) = op.Invoke(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i));
    }

    /// <summary>sum(op(a, b)).</summary>
    private static T Reduce2<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp<T>
    {
        ref T pa = ref MemoryMarshal.GetReference(a);
        ref T pb = ref MemoryMarshal.GetReference(b);
        int i = 0, n = a.Length;
        T s = T.Zero;
        if (Use512<T>())
        {
            var acc = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                acc += op.Invoke(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i));
            s = Vector512.Sum(acc);
        }
        if (Use256<T>())
        {
            var acc = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                acc += op.Invoke(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i));
            s += Vector256.Sum(acc);
        }
        if (Use128<T>())
        {
            var acc = Vector128<T>.Zero;
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                acc += op.Invoke(Vector128.LoadUnsafe(ref pa, (nuint)i), Vector128.LoadUnsafe(ref pb, (nuint)i));
            s += Vector128.Sum(acc);
        }
        for (; i < n; i++) s += op.Invoke(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i));
        return s;
    }

    /// <summary>Vector exp for float and double (the only element types with vector paths).</summary>
    private static Vector128<T> Exp<T>(Vector128<T> v) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Vector128.Exp(v.AsSingle()).As<float, T>()
            : Vector128.Exp(v.AsDouble()).As<double, T>();

    private static Vector256<T> Exp<T>(Vector256<T> v) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Vector256.Exp(v.AsSingle()).As<float, T>()
            : Vector256.Exp(v.AsDouble()).As<double, T>();

    private static Vector512<T> Exp<T>(Vector512<T> v) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Vector512.Exp(v.AsSingle()).As<float, T>()
            : Vector512.Exp(v.AsDouble()).As<double, T>();

    // ---- Operators. ----

    /// <summary>exp((x - max) * invT).</summary>
    private readonly struct ExpOp<T>(T max, T invT) : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.Exp((x - max) * invT);

        public Vector128<T> Invoke(Vector128<T> x) => Exp((x - Vector128.Create(max)) * Vector128.Create(invT));

        public Vector256<T> Invoke(Vector256<T> x) => Exp((x - Vector256.Create(max)) * Vector256.Create(invT));

        public Vector512<T> Invoke(Vector512<T> x) => Exp((x - Vector512.Create(max)) * Vector512.Create(invT));
    }

    /// <summary>x * scale.</summary>
    private readonly struct ScaleOp<T>(T scale) : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x * scale;

        public Vector128<T> Invoke(Vector128<T> x) => x * Vector128.Create(scale);

        public Vector256<T> Invoke(Vector256<T> x) => x * Vector256.Create(scale);

        public Vector512<T> Invoke(Vector512<T> x) => x * Vector512.Create(scale);
    }

    /// <summary>(x - max) * invT - logSum: log-softmax from the row max and the shifted log-sum-exp.</summary>
    private readonly struct LogShiftOp<T>(T max, T invT, T logSum) : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => (x - max) * invT - logSum;

        public Vector128<T> Invoke(Vector128<T> x) =>
            (x - Vector128.Create(max)) * Vector128.Create(invT) - Vector128.Create(logSum);

        public Vector256<T> Invoke(Vector256<T> x) =>
            (x - Vector256.Create(max)) * Vector256.Create(invT) - Vector256.Create(logSum);

        public Vector512<T> Invoke(Vector512<T> x) =>
            (x - Vector512.Create(max)) * Vector512.Create(invT) - Vector512.Create(logSum);
    }

    private readonly struct IdentityOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x;

        public Vector128<T> Invoke(Vector128<T> x) => x;

        public Vector256<T> Invoke(Vector256<T> x) => x;

        public Vector512<T> Invoke(Vector512<T> x) => x;
    }

    private readonly struct MaxOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T a, T b) => T.Max(a, b);

        public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.Max(a, b);

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);

        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
    }

    private readonly struct AddOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T a, T b) => a + b;

        public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a + b;

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a + b;

        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a + b;
    }

    /// <summary>(a - b) * scale.</summary>
    private readonly struct SubScaleOp<T>(T scale) : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T a, T b) => (a - b) * scale;

        public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => (a - b) * Vector128.Create(scale);

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => (a - b) * Vector256.Create(scale);

        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => (a - b) * Vector512.Create(scale);
    }

    /// <summary>exp((a - b) * invT): a the input, b the column maximum.</summary>
    private readonly struct ExpDiffOp<T>(T invT) : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T a, T b) => T.Exp((a - b) * invT);

        public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Exp((a - b) * Vector128.Create(invT));

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Exp((a - b) * Vector256.Create(invT));

        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Exp((a - b) * Vector512.Create(invT));
    }

    /// <summary>exp(a) * b.</summary>
    private readonly struct ExpMulOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T a, T b) => T.Exp(a) * b;

        public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Exp(a) * b;

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Exp(a) * b;

        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Exp(a) * b;
    }

    private readonly struct MulOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T a, T b) => a * b;

        public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a * b;

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a * b;

        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a * b;
    }

    /// <summary>Softmax gradient, a = y, b = dy: y * (dy - sum(dy * y)) * invT.</summary>
    private readonly struct SoftmaxGradOp<T>(T dot, T invT) : IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T y, T dy) => y * (dy - dot) * invT;

        public Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) =>
            y * (dy - Vector128.Create(dot)) * Vector128.Create(invT);

        public Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) =>
            y * (dy - Vector256.Create(dot)) * Vector256.Create(invT);

        public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) =>
            y * (dy - Vector512.Create(dot)) * Vector512.Create(invT);
    }

    /// <summary>Log-softmax gradient, a = y (log-probabilities), b = dy: (dy - exp(y) * sum(dy)) * invT.</summary>
    private readonly struct LogSoftmaxGradOp<T>(T sum, T invT) : IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T y, T dy) => (dy - T.Exp(y) * sum) * invT;

        public Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) =>
            (dy - Exp(y) * Vector128.Create(sum)) * Vector128.Create(invT);

        public Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) =>
            (dy - Exp(y) * Vector256.Create(sum)) * Vector256.Create(invT);

        public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) =>
            (dy - Exp(y) * Vector512.Create(sum)) * Vector512.Create(invT);
    }
}
