using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Sums of a vector's lanes in one fixed order, four vectors at a time with a transpose-and-add tree, for dot
/// products that end in a horizontal sum. The order: each group of four lanes as (l0 + l1) + (l2 + l3), then the
/// groups in pairs, ((g0 + g1) + (g2 + g3)) for sixteen lanes. <see cref="Four{TV}"/> and <see cref="One{TV}"/> give
/// the same bits for the same vector whichever way it is summed, on every instruction set (the runtime's
/// Vector128.Sum changes its order with the instructions it may use). Four sums of 16 lanes take 11 instructions
/// against about 28 for four separate sums.
/// </summary>
internal static class LaneSums
{
    /// <summary>The sums of the lanes of a, b, c and d, in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Four<TV>(TV a, TV b, TV c, TV d)
        where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            var za = Unsafe.As<TV, Vector512<float>>(ref a);
            var zb = Unsafe.As<TV, Vector512<float>>(ref b);
            var zc = Unsafe.As<TV, Vector512<float>>(ref c);
            var zd = Unsafe.As<TV, Vector512<float>>(ref d);
            return Four256(za.GetLower(), zb.GetLower(), zc.GetLower(), zd.GetLower()) +
                   Four256(za.GetUpper(), zb.GetUpper(), zc.GetUpper(), zd.GetUpper());
        }
        if (typeof(TV) == typeof(Vector256<float>))
        {
            return Four256(Unsafe.As<TV, Vector256<float>>(ref a), Unsafe.As<TV, Vector256<float>>(ref b),
                Unsafe.As<TV, Vector256<float>>(ref c), Unsafe.As<TV, Vector256<float>>(ref d));
        }
        if (typeof(TV) == typeof(Vector128<float>))
        {
            return Four128(Unsafe.As<TV, Vector128<float>>(ref a), Unsafe.As<TV, Vector128<float>>(ref b),
                Unsafe.As<TV, Vector128<float>>(ref c), Unsafe.As<TV, Vector128<float>>(ref d));
        }
        throw new NotSupportedException($"LaneSums: no lane sums for {typeof(TV).Name}.");
    }

    /// <summary>The sum of v's lanes, bit for bit as <see cref="Four{TV}"/> gives it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float One<TV>(TV v)
        where TV : struct => Four(v, v, v, v).ToScalar();

    /// <summary>Four 8-lane sums: the 4-lane tree on each half, then the halves added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Four256(Vector256<float> a, Vector256<float> b, Vector256<float> c,
        Vector256<float> d)
    {
        if (Avx.IsSupported)
        {
            // Per 128-bit half: [a, b, c, d] summed within the half (two rounds of pairwise adds).
            var r = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
            return r.GetLower() + r.GetUpper();
        }
        return Four128(a.GetLower(), b.GetLower(), c.GetLower(), d.GetLower()) +
               Four128(a.GetUpper(), b.GetUpper(), c.GetUpper(), d.GetUpper());
    }

    /// <summary>Four 4-lane sums, each (l0 + l1) + (l2 + l3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Four128(Vector128<float> a, Vector128<float> b, Vector128<float> c,
        Vector128<float> d)
    {
        if (Sse3.IsSupported) return Sse3.HorizontalAdd(Sse3.HorizontalAdd(a, b), Sse3.HorizontalAdd(c, d));
        if (AdvSimd.Arm64.IsSupported)
            return AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(a, b), AdvSimd.Arm64.AddPairwise(c, d));
        return Vector128.Create(Quad(a), Quad(b), Quad(c), Quad(d));

        static float Quad(Vector128<float> v) => (v.GetElement(0) + v.GetElement(1)) +
                                                 (v.GetElement(2) + v.GetElement(3));
    }
}
