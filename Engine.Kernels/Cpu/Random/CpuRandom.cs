using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Random kernels on <see cref="Philox"/> streams. Element i of a call is a pure function of (seed, offset, i),
/// so results do not depend on threading and a CUDA kernel reproduces them exactly by following the mapping
/// below. Calls that must not repeat each other's numbers advance <c>offset</c> by <see cref="CountersUsed32"/>
/// or <see cref="CountersUsed64"/> of the previous call's element count.
/// </summary>
/// <remarks>
/// <para>The mapping. block(c) = Philox4x32-10 of counter (low32(c), high32(c), 0, 0) under key
/// (low32(seed), high32(seed)), with c a 64-bit counter that wraps; its words are X0..X3. Then:</para>
/// <list type="bullet">
/// <item>32-bit streams (float32 Uniform and Normal, every Bernoulli and DropoutMask whatever its element type):
/// element i reads word w = X[i % 4] of block(offset + i / 4).</item>
/// <item>64-bit streams (float64 Uniform and Normal): element i reads the pair (X[2 (i % 2)], X[2 (i % 2) + 1])
/// of block(offset + i / 2).</item>
/// <item>u24(w) = (w &gt;&gt; 8) * 2^-24, in [0, 1); u53(a, b) = (((a &lt;&lt; 32) | b) &gt;&gt; 11) * 2^-53, in
/// [0, 1). Both are exact.</item>
/// <item>Uniform float32: fmaf(high - low, u24(w), low), all in float32 (high - low rounded once). Uniform
/// float64: fma(high - low, u53(a, b), low) in double. The fused multiply-add is part of the definition: a CUDA
/// port writes fmaf/fma explicitly so the compiler cannot choose differently.</item>
/// <item>Normal (Box-Muller in double): float32 elements 4q, 4q + 1 come from words (X0, X1) of block(offset + q),
/// 4q + 2, 4q + 3 from (X2, X3): with (a, b) the pair, u1 = ((a &gt;&gt; 8) + 1) * 2^-24 in (0, 1] and
/// u2 = u24(b); float64 elements 2q, 2q + 1 come from block(offset + q) with u1 = u53(X0, X1) + 2^-53 and
/// u2 = u53(X2, X3). Then r = sqrt(-2 log u1), t = TwoPi * u2 (TwoPi the double nearest 2 pi), the even element
/// is fma(std, r cos t, mean) and the odd one fma(std, r sin t, mean), in double, rounded once to float32 for a
/// float32 stream. CUDA's double log, sin and cos may differ from .NET's in the last bit, so float32 normals match
/// bit for bit except in rare rounding ties, and float64 normals to about 1e-15 relative.</item>
/// <item>Bernoulli(p): 1 when (w &gt;&gt; 8) &lt; p * 2^24 (compared in double; that is u24(w) &lt; p), else 0.
/// DropoutMask(keepProb): the same test with p = keepProb, giving scale = (T)(1 / keepProb) (the quotient in
/// double, rounded once to T) when kept and 0 when dropped; keepProb = 0 drops everything.</item>
/// </list>
/// </remarks>
public static unsafe class CpuRandom
{
    /// <summary>Counters per thread chunk: 16 Ki Philox calls, a few hundred microseconds of work.</summary>
    private const long CounterGrain = 1 << 14;

    /// <summary>Elements per thread chunk of the dropout multiply: 256 KB of float32.</summary>
    private const long ElementGrain = 1 << 16;

    private const float Unit24 = 1f / (1 << 24);
    private const double Unit53 = 1.0 / (1L << 53);
    private const double TwoPi = 2 * Math.PI;

    /// <summary>Counters consumed by a 32-bit stream of <paramref name="count"/> elements: ceil(count / 4).</summary>
    public static ulong CountersUsed32(long count) => (ulong)((Math.Max(0, count) + 3) / 4);

    /// <summary>Counters consumed by a 64-bit stream of <paramref name="count"/> elements: ceil(count / 2).</summary>
    public static ulong CountersUsed64(long count) => (ulong)((Math.Max(0, count) + 1) / 2);

    /// <summary>Fills <paramref name="dst"/> with uniform values in [low, high) (high only by rounding).</summary>
    public static void Uniform(ulong seed, ulong offset, float low, float high, Span<float> dst)
    {
        CheckUniform(low, high, float.IsFinite(high - low));
        long n = dst.Length;
        fixed (float* p = dst)
        {
            nint address = (nint)p;
            CpuParallel.For((long)CountersUsed32(n), CounterGrain, (start, end) =>
            {
                float width = high - low;
                for (long q = start; q < end; q++)
                {
                    var b = Philox.Generate(seed, offset + (ulong)q);
                    Store4((float*)address, q * 4, n,
                        MathF.FusedMultiplyAdd(width, U24(b.X0), low), MathF.FusedMultiplyAdd(width, U24(b.X1), low),
                        MathF.FusedMultiplyAdd(width, U24(b.X2), low), MathF.FusedMultiplyAdd(width, U24(b.X3), low));
                }
            });
        }
    }

    /// <summary>Fills <paramref name="dst"/> with uniform values in [low, high) (high only by rounding).</summary>
    public static void Uniform(ulong seed, ulong offset, double low, double high, Span<double> dst)
    {
        CheckUniform(low, high, double.IsFinite(high - low));
        long n = dst.Length;
        fixed (double* p = dst)
        {
            nint address = (nint)p;
            CpuParallel.For((long)CountersUsed64(n), CounterGrain, (start, end) =>
            {
                double width = high - low;
                for (long q = start; q < end; q++)
                {
                    var b = Philox.Generate(seed, offset + (ulong)q);
                    Store2((double*)address, q * 2, n,
                        Math.FusedMultiplyAdd(width, U53(b.X0, b.X1), low),
                        Math.FusedMultiplyAdd(width, U53(b.X2, b.X3), low));
                }
            });
        }
    }

    /// <summary>Fills <paramref name="dst"/> with normal values of the given mean and standard deviation.</summary>
    public static void Normal(ulong seed, ulong offset, float mean, float std, Span<float> dst)
    {
        CheckNormal(mean, std);
        long n = dst.Length;
        fixed (float* p = dst)
        {
            nint address = (nint)p;
            CpuParallel.For((long)CountersUsed32(n), CounterGrain, (start, end) =>
            {
                for (long q = start; q < end; q++)
                {
                    var b = Philox.Generate(seed, offset + (ulong)q);
                    var (z0, z1) = BoxMuller(((b.X0 >> 8) + 1) * (double)Unit24, U24(b.X1));
                    var (z2, z3) = BoxMuller(((b.X2 >> 8) + 1) * (double)Unit24, U24(b.X3));
                    Store4((float*)address, q * 4, n,
                        (float)Math.FusedMultiplyAdd(std, z0, mean), (float)Math.FusedMultiplyAdd(std, z1, mean),
                        (float)Math.FusedMultiplyAdd(std, z2, mean), (float)Math.FusedMultiplyAdd(std, z3, mean));
                }
            });
        }
    }

    /// <summary>Fills <paramref name="dst"/> with normal values of the given mean and standard deviation.</summary>
    public static void Normal(ulong seed, ulong offset, double mean, double std, Span<double> dst)
    {
        CheckNormal(mean, std);
        long n = dst.Length;
        fixed (double* p = dst)
        {
            nint address = (nint)p;
            CpuParallel.For((long)CountersUsed64(n), CounterGrain, (start, end) =>
            {
                for (long q = start; q < end; q++)
                {
                    var b = Philox.Generate(seed, offset + (ulong)q);
                    var (z0, z1) = BoxMuller(U53(b.X0, b.X1) + Unit53, U53(b.X2, b.X3));
                    Store2((double*)address, q * 2, n,
                        Math.FusedMultiplyAdd(std, z0, mean), Math.FusedMultiplyAdd(std, z1, mean));
                }
            });
        }
    }

    /// <summary>Fills <paramref name="dst"/> with 1 (probability <paramref name="p"/>) or 0.</summary>
    public static void Bernoulli<T>(ulong seed, ulong offset, double p, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckProbability("bernoulli", "probability", p);
        MaskCore(seed, offset, p, T.One, dst);
    }

    /// <summary>
    /// Fills <paramref name="mask"/> with the dropout mask: 1 / keepProb with probability keepProb, else 0, so
    /// that <see cref="Dropout{T}"/> keeps the expected value of its input.
    /// </summary>
    public static void DropoutMask<T>(ulong seed, ulong offset, double keepProb, Span<T> mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckProbability("dropout", "keep probability", keepProb);
        T scale = keepProb > 0 ? T.CreateTruncating(1.0 / keepProb) : T.Zero;
        MaskCore(seed, offset, keepProb, scale, mask);
    }

    /// <summary>Dropout forward: y = x * mask, with the mask from <see cref="DropoutMask{T}"/>.</summary>
    public static void Dropout<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mask, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> => Multiply("dropout", "input", x, mask, y);

    /// <summary>Dropout backward: dx = dy * mask, the same mask as the forward pass.</summary>
    public static void DropoutBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> mask, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> => Multiply("dropout backward", "output gradient", dy, mask, dx);

    private static void CheckUniform<T>(T low, T high, bool widthFinite) where T : IFloatingPointIeee754<T>
    {
        if (!T.IsFinite(low) || !T.IsFinite(high))
            throw new ArgumentOutOfRangeException(nameof(low),
                $"uniform: bounds must be finite, got low {low} and high {high}.");
        if (low > high)
            throw new ArgumentException($"uniform: low {low} is greater than high {high}; swap them.");
        if (!widthFinite)
            throw new ArgumentException(
                $"uniform: the range [{low}, {high}) is wider than the element type can hold; narrow it.");
    }

    private static void CheckNormal<T>(T mean, T std) where T : IFloatingPointIeee754<T>
    {
        if (!T.IsFinite(mean) || !T.IsFinite(std) || std < T.Zero)
            throw new ArgumentOutOfRangeException(nameof(std),
                $"normal: mean {mean} and standard deviation {std} must be finite, with std >= 0.");
    }

    private static void CheckProbability(string op, string what, double p)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), $"{op}: {what} {p} is outside [0, 1].");
    }

    private static void MaskCore<T>(ulong seed, ulong offset, double p, T kept, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = dst.Length;
        double threshold = p * (1 << 24);
        fixed (T* pd = dst)
        {
            nint address = (nint)pd;
            CpuParallel.For((long)CountersUsed32(n), CounterGrain, (start, end) =>
            {
                for (long q = start; q < end; q++)
                {
                    var b = Philox.Generate(seed, offset + (ulong)q);
                    Store4((T*)address, q * 4, n,
                        (b.X0 >> 8) < threshold ? kept : T.Zero, (b.X1 >> 8) < threshold ? kept : T.Zero,
                        (b.X2 >> 8) < threshold ? kept : T.Zero, (b.X3 >> 8) < threshold ? kept : T.Zero);
                }
            });
        }
    }

    private static void Multiply<T>(string op, string name, ReadOnlySpan<T> x, ReadOnlySpan<T> mask, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length != mask.Length || y.Length != x.Length)
            throw new ArgumentException(
                $"{op}: {name} has {x.Length} elements, mask {mask.Length} and result {y.Length}; pass buffers " +
                "of one length.");
        fixed (T* px = x)
        fixed (T* pm = mask)
        fixed (T* py = y)
        {
            nint xa = (nint)px, ma = (nint)pm, ya = (nint)py;
            CpuParallel.For(x.Length, ElementGrain, (start, end) => MultiplyCore((T*)xa, (T*)ma, (T*)ya, start, end));
        }
    }

    private static void MultiplyCore<T>(T* x, T* m, T* y, long start, long end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long i = start;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; i + Vector512<T>.Count <= end; i += Vector512<T>.Count)
                Vector512.Store(Vector512.Load(x + i) * Vector512.Load(m + i), y + i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i + Vector256<T>.Count <= end; i += Vector256<T>.Count)
                Vector256.Store(Vector256.Load(x + i) * Vector256.Load(m + i), y + i);
        }
        for (; i < end; i++) y[i] = x[i] * m[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float U24(uint w) => (w >> 8) * Unit24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double U53(uint high, uint low) => ((((ulong)high << 32) | low) >> 11) * Unit53;

    /// <summary>Box-Muller: two independent standard normals from u1 in (0, 1] and u2 in [0, 1).</summary>
    private static (double, double) BoxMuller(double u1, double u2)
    {
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double t = TwoPi * u2;
        return (r * Math.Cos(t), r * Math.Sin(t));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<T>(T* dst, long i, long n, T v0, T v1, T v2, T v3) where T : unmanaged
    {
        if (i + 4 <= n)
        {
            dst[i] = v0;
            dst[i + 1] = v1;
            dst[i + 2] = v2;
            dst[i + 3] = v3;
            return;
        }
        if (i < n) dst[i] = v0;
        if (i + 1 < n) dst[i + 1] = v1;
        if (i + 2 < n) dst[i + 2] = v2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2<T>(T* dst, long i, long n, T v0, T v1) where T : unmanaged
    {
        dst[i] = v0;
        if (i + 1 < n) dst[i + 1] = v1;
    }
}
