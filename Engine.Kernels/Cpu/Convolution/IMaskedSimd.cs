using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// <see cref="ISimdFloat{TV}"/> with lane masks, for the direct convolution kernels, which are written once and
/// compiled for Vector512 (AVX-512) and Vector256 (AVX2 + FMA): masked loads and stores keep the partial vector at
/// the end of a plane or row from reading or writing past it. The arithmetic members are those of
/// <see cref="Simd512"/> and <see cref="Simd256"/>.
/// </summary>
internal interface IMaskedSimd<TV> : ISimdFloat<TV>
    where TV : struct
{
    /// <summary>Vector registers the ISA has: 32 zmm, 16 ymm.</summary>
    static abstract int Registers { get; }

    /// <summary>A mask of lanes [lo, hi) (all bits set there, clear elsewhere); empty when hi &lt;= lo.</summary>
    static abstract TV Mask(int lo, int hi);

    /// <summary>The lanes in the mask from p, zero elsewhere; masked-off lanes are not read (cannot fault).</summary>
    static abstract unsafe TV MaskLoad(float* p, TV mask);

    /// <summary>Stores the lanes in the mask to p; the others are not written.</summary>
    static abstract unsafe void MaskStore(float* p, TV mask, TV v);

    /// <summary>Elements 0, 2, 4, ... of the 2 * Width values lo:hi: every other input of a stride-2 row.</summary>
    static abstract TV Even(TV lo, TV hi);

    /// <summary>The lanes of v onto the even lanes of two vectors (first half, second half); odd lanes 0.</summary>
    static abstract (TV Low, TV High) SpreadEven(TV v);
}

/// <summary>Vector512 with AVX-512 masks.</summary>
internal readonly struct Masked512 : IMaskedSimd<Vector512<float>>
{
    public static int Width => Simd512.Width;

    public static bool IsSupported => Simd512.IsSupported && Avx512F.IsSupported;

    public static int Registers => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(float* p) => Simd512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector512<float> v, float* p) => Simd512.Store(v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float x) => Simd512.Broadcast(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Simd512.Fma(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => Simd512.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => Simd512.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Simd512.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mask(int lo, int hi)
    {
        var lanes = Vector512<int>.Indices;
        return (Vector512.GreaterThanOrEqual(lanes, Vector512.Create(lo))
            & Vector512.LessThan(lanes, Vector512.Create(hi))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> MaskLoad(float* p, Vector512<float> mask) =>
        Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void MaskStore(float* p, Vector512<float> mask, Vector512<float> v) =>
        Avx512F.MaskStore(p, mask, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Even(Vector512<float> lo, Vector512<float> hi) =>
        Avx512F.PermuteVar16x32x2(lo, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
            hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Low, Vector512<float> High) SpreadEven(Vector512<float> v)
    {
        // Index 16 is the second operand's first lane: zero.
        var low = Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
        var high = Vector512.Create(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
        return (Avx512F.PermuteVar16x32x2(v, low, Vector512<float>.Zero),
            Avx512F.PermuteVar16x32x2(v, high, Vector512<float>.Zero));
    }
}

/// <summary>
/// Vector256 with AVX masked moves (vmaskmovps: masked-off lanes of a load read as zero and do not fault).
/// </summary>
internal readonly struct Masked256 : IMaskedSimd<Vector256<float>>
{
    public static int Width => Simd256.Width;

    public static bool IsSupported => Simd256.IsSupported && Avx2.IsSupported;

    public static int Registers => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Load(float* p) => Simd256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector256<float> v, float* p) => Simd256.Store(v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float x) => Simd256.Broadcast(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Simd256.Fma(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => Simd256.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Simd256.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Simd256.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Mask(int lo, int hi)
    {
        var lanes = Vector256<int>.Indices;
        return (Vector256.GreaterThanOrEqual(lanes, Vector256.Create(lo))
            & Vector256.LessThan(lanes, Vector256.Create(hi))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> MaskLoad(float* p, Vector256<float> mask) => Avx.MaskLoad(p, mask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void MaskStore(float* p, Vector256<float> mask, Vector256<float> v) =>
        Avx.MaskStore(p, mask, v);

    // Shuffle 0x88 takes elements 0 and 2 of each source per 128-bit lane, and the 64-bit permute 0xD8
    // (0, 2, 1, 3) puts the four pairs in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Even(Vector256<float> lo, Vector256<float> hi) =>
        Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0x88).AsDouble(), 0xD8).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Low, Vector256<float> High) SpreadEven(Vector256<float> v)
    {
        var even = Vector256.Create(-1, 0, -1, 0, -1, 0, -1, 0).AsSingle();
        return (Avx2.PermuteVar8x32(v, Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3)) & even,
            Avx2.PermuteVar8x32(v, Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7)) & even);
    }
}
