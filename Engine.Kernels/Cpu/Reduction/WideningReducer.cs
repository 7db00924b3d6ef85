using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// A float32 reduction that accumulates in float64: each vector of floats is widened into two vectors of doubles.
/// The sum of n floats then carries about n * 2^-53 relative error instead of n * 2^-24, far inside the float32
/// tolerance, and the price is small because reductions are bound by memory bandwidth, not by adds.
/// </summary>
internal readonly unsafe struct WideningReducer<TOp, TFinish> : IReducer<float, double>
    where TOp : IReduceOperator<double>
    where TFinish : IFinisher<double, float>
{
    public static double Identity => TOp.Identity;

    public static double Map(float x) => TOp.Map(x);

    public static double Combine(double a, double b) => TOp.Combine(a, b);

    public static float Finish(double acc, long count) => TFinish.Finish(acc, count);

    public static double ReduceLine(float* p, nint n)
    {
        double acc = TOp.Identity;
        nint i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            int w = Vector512<float>.Count;
            Vector512<double> a0 = Vector512.Create(TOp.Identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 2 * w; i += 2 * w)
            {
                var (l0, h0) = Vector512.Widen(Vector512.Load(p + i));
                var (l1, h1) = Vector512.Widen(Vector512.Load(p + i + w));
                a0 = TOp.Combine(a0, TOp.Map(l0));
                a1 = TOp.Combine(a1, TOp.Map(h0));
                a2 = TOp.Combine(a2, TOp.Map(l1));
                a3 = TOp.Combine(a3, TOp.Map(h1));
            }
            for (; i <= n - w; i += w)
            {
                var (l0, h0) = Vector512.Widen(Vector512.Load(p + i));
                a0 = TOp.Combine(a0, TOp.Map(l0));
                a1 = TOp.Combine(a1, TOp.Map(h0));
            }
            a0 = TOp.Combine(TOp.Combine(a0, a1), TOp.Combine(a2, a3));
            for (int k = 0; k < Vector512<double>.Count; k++) acc = TOp.Combine(acc, a0.GetElement(k));
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            int w = Vector256<float>.Count;
            Vector256<double> a0 = Vector256.Create(TOp.Identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 2 * w; i += 2 * w)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(p + i));
                var (l1, h1) = Vector256.Widen(Vector256.Load(p + i + w));
                a0 = TOp.Combine(a0, TOp.Map(l0));
                a1 = TOp.Combine(a1, TOp.Map(h0));
                a2 = TOp.Combine(a2, TOp.Map(l1));
                a3 = TOp.Combine(a3, TOp.Map(h1));
            }
            for (; i <= n - w; i += w)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(p + i));
                a0 = TOp.Combine(a0, TOp.Map(l0));
                a1 = TOp.Combine(a1, TOp.Map(h0));
            }
            a0 = TOp.Combine(TOp.Combine(a0, a1), TOp.Combine(a2, a3));
            for (int k = 0; k < Vector256<double>.Count; k++) acc = TOp.Combine(acc, a0.GetElement(k));
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            int w = Vector128<float>.Count;
            Vector128<double> a0 = Vector128.Create(TOp.Identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 2 * w; i += 2 * w)
            {
                var (l0, h0) = Vector128.Widen(Vector128.Load(p + i));
                var (l1, h1) = Vector128.Widen(Vector128.Load(p + i + w));
                a0 = TOp.Combine(a0, TOp.Map(l0));
                a1 = TOp.Combine(a1, TOp.Map(h0));
                a2 = TOp.Combine(a2, TOp.Map(l1));
                a3 = TOp.Combine(a3, TOp.Map(h1));
            }
            for (; i <= n - w; i += w)
            {
                var (l0, h0) = Vector128.Widen(Vector128.Load(p + i));
                a0 = TOp.Combine(a0, TOp.Map(l0));
                a1 = TOp.Combine(a1, TOp.Map(h0));
            }
            a0 = TOp.Combine(TOp.Combine(a0, a1), TOp.Combine(a2, a3));
            for (int k = 0; k < Vector128<double>.Count; k++) acc = TOp.Combine(acc, a0.GetElement(k));
        }
        for (; i < n; i++) acc = TOp.Combine(acc, TOp.Map(p[i]));
        return acc;
    }

    public static void AccumulateLine(double* acc, float* p, nint n)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            int w = Vector512<float>.Count, h = Vector512<double>.Count;
            for (; i <= n - w; i += w)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(p + i));
                Vector512.Store(TOp.Combine(Vector512.Load(acc + i), TOp.Map(lo)), acc + i);
                Vector512.Store(TOp.Combine(Vector512.Load(acc + i + h), TOp.Map(hi)), acc + i + h);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            int w = Vector256<float>.Count, h = Vector256<double>.Count;
            for (; i <= n - w; i += w)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(p + i));
                Vector256.Store(TOp.Combine(Vector256.Load(acc + i), TOp.Map(lo)), acc + i);
                Vector256.Store(TOp.Combine(Vector256.Load(acc + i + h), TOp.Map(hi)), acc + i + h);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            int w = Vector128<float>.Count, h = Vector128<double>.Count;
            for (; i <= n - w; i += w)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Load(p + i));
                Vector128.Store(TOp.Combine(Vector128.Load(acc + i), TOp.Map(lo)), acc + i);
                Vector128.Store(TOp.Combine(Vector128.Load(acc + i + h), TOp.Map(hi)), acc + i + h);
            }
        }
        for (; i < n; i++) acc[i] = TOp.Combine(acc[i], TOp.Map(p[i]));
    }
}
