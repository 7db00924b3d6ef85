using System.Numerics;

namespace Engine.Kernels.Cpu;

public static unsafe partial class CpuLayout
{
    /// <summary>
    /// Converts contiguous elements between float, double, int, long and byte, as NumPy's astype does where
    /// NumPy is defined: floating to integer truncates toward zero (2.7 -> 2, -2.7 -> -2), wider to narrower
    /// integers wrap (300 -> byte 44), integer and double to float round to nearest. Where NumPy is undefined
    /// (NaN or out-of-range floating values to an integer) the result saturates at the integer's limits and NaN
    /// gives 0, as .NET's conversions do.
    /// </summary>
    public static void Cast<TFrom, TTo>(ReadOnlySpan<TFrom> src, Span<TTo> dst)
        where TFrom : unmanaged, INumberBase<TFrom>
        where TTo : unmanaged, INumberBase<TTo>
    {
        CheckCastType<TFrom>("source");
        CheckCastType<TTo>("destination");
        if (src.Length != dst.Length)
            throw new ArgumentException(
                $"cast: source has {src.Length} elements but destination has {dst.Length}; pass buffers of the " +
                "same length.");
        fixed (TFrom* ps = src)
        fixed (TTo* pd = dst)
        {
            CastCore(ps, pd, src.Length);
        }
    }

    private static void CheckCastType<T>(string role)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(int) &&
            typeof(T) != typeof(long) && typeof(T) != typeof(byte))
            throw new ArgumentException(
                $"cast: {role} element type {typeof(T).Name} is not supported; use float, double, int, long or byte.");
    }

    private static void CastCore<TFrom, TTo>(TFrom* src, TTo* dst, long count)
        where TFrom : unmanaged, INumberBase<TFrom>
        where TTo : unmanaged, INumberBase<TTo>
    {
        if (typeof(TFrom) == typeof(TTo))
        {
            CopyCore((TTo*)src, [1], dst, [1], [checked((int)count)]);
            return;
        }
        nint srcAddress = (nint)src, dstAddress = (nint)dst;
        CpuParallel.For(count, ParallelGrain, (start, end) =>
        {
            var s = (TFrom*)srcAddress;
            var d = (TTo*)dstAddress;
            // The JIT specializes this loop per type pair; CreateTruncating is the conversion documented above.
            for (long i = start; i < end; i++) d[i] = TTo.CreateTruncating(s[i]);
        });
    }
}
