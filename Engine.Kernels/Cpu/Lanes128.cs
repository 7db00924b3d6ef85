using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Lane moves across two 128-bit vectors that are one instruction both with SSE (shufps, unpcklps, unpcklpd) and
/// with ARM64's AdvSimd (uzp1/uzp2, zip1/zip2), for the 4-wide steps that ARM64 runs: the portable
/// <c>Vector128.Shuffle</c> takes one source. Callers check <see cref="IsSupported"/>.
/// </summary>
internal static class Lanes128
{
    /// <summary>True where every method here is a single instruction.</summary>
    public static bool IsSupported => Sse2.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>Lanes 0 and 2 of <paramref name="lo"/>, then of <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> EvenOf(Vector128<float> lo, Vector128<float> hi) =>
        Sse.IsSupported ? Sse.Shuffle(lo, hi, 0x88) : AdvSimd.Arm64.UnzipEven(lo, hi);

    /// <summary>Lanes 1 and 3 of <paramref name="lo"/>, then of <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> OddOf(Vector128<float> lo, Vector128<float> hi) =>
        Sse.IsSupported ? Sse.Shuffle(lo, hi, 0xDD) : AdvSimd.Arm64.UnzipOdd(lo, hi);

    /// <summary>a0 b0 a1 b1: the first halves of <paramref name="a"/> and <paramref name="b"/> interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipLow(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackLow(a, b) : AdvSimd.Arm64.ZipLow(a, b);

    /// <summary>a2 b2 a3 b3: the second halves interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipHigh(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackHigh(a, b) : AdvSimd.Arm64.ZipHigh(a, b);

    /// <summary>a0 b0 of two 64-bit pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> ZipLow(Vector128<double> a, Vector128<double> b) =>
        Sse2.IsSupported ? Sse2.UnpackLow(a, b) : AdvSimd.Arm64.ZipLow(a, b);

    /// <summary>a1 b1 of two 64-bit pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> ZipHigh(Vector128<double> a, Vector128<double> b) =>
        Sse2.IsSupported ? Sse2.UnpackHigh(a, b) : AdvSimd.Arm64.ZipHigh(a, b);

    /// <summary>dst[q * ldd + r] = src[r * lds + q] for a 4 x 4 block of floats, in registers.</summary>
    public static unsafe void Transpose4x4(float* src, nint lds, float* dst, nint ldd)
    {
        Vector128<float> r0 = Vector128.Load(src), r1 = Vector128.Load(src + lds);
        Vector128<float> r2 = Vector128.Load(src + 2 * lds), r3 = Vector128.Load(src + 3 * lds);
        // Rows 0 and 1, and rows 2 and 3, interleaved; then the 64-bit pairs of those paired across.
        Vector128<double> t0 = ZipLow(r0, r1).AsDouble(), t1 = ZipHigh(r0, r1).AsDouble();
        Vector128<double> t2 = ZipLow(r2, r3).AsDouble(), t3 = ZipHigh(r2, r3).AsDouble();
        ZipLow(t0, t2).AsSingle().Store(dst);
        ZipHigh(t0, t2).AsSingle().Store(dst + ldd);
        ZipLow(t1, t3).AsSingle().Store(dst + 2 * ldd);
        ZipHigh(t1, t3).AsSingle().Store(dst + 3 * ldd);
    }
}
