using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// A reduction that accumulates in the element type itself: double, the integers (whose sums and products wrap,
/// so the order does not change the result) and float max/min (exact in any order).
/// </summary>
internal readonly unsafe struct SameTypeReducer<T, TOp, TFinish> : IReducer<T, T>
    where T : unmanaged, INumber<T>
    where TOp : IReduceOperator<T>
    where TFinish : IFinisher<T, T>
{
    public static T Identity => TOp.Identity;

    public static T Map(T x) => TOp.Map(x);

    public static T Combine(T a, T b) => TOp.Combine(a, b);

    public static T Finish(T acc, long count) => TFinish.Finish(acc, count);

    public static T ReduceLine(T* p, nint n)
    {
        T acc = TOp.Identity;
        nint i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            int w = Vector512<T>.Count;
            // Four independent accumulators hide the add latency; the order is fixed, so results are repeatable.
            Vector512<T> a0 = Vector512.Create(TOp.Identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                a0 = TOp.Combine(a0, TOp.Map(Vector512.Load(p + i)));
                a1 = TOp.Combine(a1, TOp.Map(Vector512.Load(p + i + w)));
                a2 = TOp.Combine(a2, TOp.Map(Vector512.Load(p + i + 2 * w)));
                a3 = TOp.Combine(a3, TOp.Map(Vector512.Load(p + i + 3 * w)));
            }
            for (; i <= n - w; i += w) a0 = TOp.Combine(a0, TOp.Map(Vector512.Load(p + i)));
            a0 = TOp.Combine(TOp.Combine(a0, a1), TOp.Combine(a2, a3));
            for (int k = 0; k < w; k++) acc = TOp.Combine(acc, a0.GetElement(k));
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            int w = Vector256<T>.Count;
            Vector256<T> a0 = Vector256.Create(TOp.Identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                a0 = TOp.Combine(a0, TOp.Map(Vector256.Load(p + i)));
                a1 = TOp.Combine(a1, TOp.Map(Vector256.Load(p + i + w)));
                a2 = TOp.Combine(a2, TOp.Map(Vector256.Load(p + i + 2 * w)));
                a3 = TOp.Combine(a3, TOp.Map(Vector256.Load(p + i + 3 * w)));
            }
            for (; i <= n - w; i += w) a0 = TOp.Combine(a0, TOp.Map(Vector256.Load(p + i)));
            a0 = TOp.Combine(TOp.Combine(a0, a1), TOp.Combine(a2, a3));
            for (int k = 0; k < w; k++) acc = TOp.Combine(acc, a0.GetElement(k));
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
        {
            int w = Vector128<T>.Count;
            Vector128<T> a0 = Vector128.Create(TOp.Identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                a0 = TOp.Combine(a0, TOp.Map(Vector128.Load(p + i)));
                a1 = TOp.Combine(a1, TOp.Map(Vector128.Load(p + i + w)));
                a2 = TOp.Combine(a2, TOp.Map(Vector128.Load(p + i + 2 * w)));
                a3 = TOp.Combine(a3, TOp.Map(Vector128.Load(p + i + 3 * w)));
            }
            for (; i <= n - w; i += w) a0 = TOp.Combine(a0, TOp.Map(Vector128.Load(p + i)));
            a0 = TOp.Combine(TOp.Combine(a0, a1), TOp.Combine(a2, a3));
            for (int k = 0; k < w; k++) acc = TOp.Combine(acc, a0.GetElement(k));
        }
        for (; i < n; i++) acc = TOp.Combine(acc, TOp.Map(p[i]));
        return acc;
    }

    public static void AccumulateLine(T* acc, T* p, nint n)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                Vector512.Store(TOp.Combine(Vector512.Load(acc + i), TOp.Map(Vector512.Load(p + i))), acc + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.Store(TOp.Combine(Vector256.Load(acc + i), TOp.Map(Vector256.Load(p + i))), acc + i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                Vector128.Store(TOp.Combine(Vector128.Load(acc + i), TOp.Map(Vector128.Load(p + i))), acc + i);
        }
        for (; i < n; i++) acc[i] = TOp.Combine(acc[i], TOp.Map(p[i]));
    }
}
