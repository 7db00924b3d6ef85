using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Packing for <see cref="SgemmAvx512Driver"/>, all in Vector512 moves. A B panel is cut into slivers of up to 64
/// columns, each only as wide as its columns rounded up to 16 (a last sliver of 10 columns is 16 wide, not 64), so a
/// narrow edge costs a narrow kernel. Stored-transposed A is packed one 6-row sliver at a time.
/// </summary>
internal static unsafe class SgemmPanelPacking
{
    /// <summary>Columns of the widest sliver.</summary>
    public const int SliverColumns = 64;

    /// <summary>Width in floats of the sliver that holds <paramref name="cols"/> columns: 16, 32, 48 or 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SliverWidth(int cols) => (cols + 15) & ~15;

    /// <summary>
    /// Packs op(B)[0:kc, 0:nc] (<paramref name="b"/> points at op(B)[0, 0]): sliver s holds columns 64 s onward,
    /// starts at dst + 64 s kc and has element (p, j) at p * width + j, zero in columns at or past nc.
    /// </summary>
    public static void PackB(bool trans, float* b, nint ldb, int kc, int nc, float* dst)
    {
        for (int j0 = 0; j0 < nc; j0 += SliverColumns)
        {
            int cols = Math.Min(SliverColumns, nc - j0);
            float* src = trans ? b + j0 * ldb : b + j0;
            PackSliverB(trans, src, ldb, kc, cols, dst + (nint)j0 * kc);
        }
    }

    /// <summary>Packs one sliver of <paramref name="cols"/> &lt;= 64 columns, SliverWidth(cols) wide.</summary>
    public static void PackSliverB(bool trans, float* b, nint ldb, int kc, int cols, float* dst)
    {
        int width = SliverWidth(cols);
        if (!trans)
        {
            // op(B)[p, j] = b[p * ldb + j]: a row copy, the last vector masked (loads past cols read nothing).
            for (int p = 0; p < kc; p++)
            {
                float* s = b + p * ldb, d = dst + p * width;
                for (int j = 0; j < width; j += 16) LoadPartial(s + j, cols - j).Store(d + j);
            }
            return;
        }
        // op(B)[p, j] = b[j * ldb + p]: 16 x 16 blocks transposed in registers, one cache line of each of 16
        // stored rows at a time.
        for (int p0 = 0; p0 < kc; p0 += 16)
        {
            int steps = Math.Min(16, kc - p0);
            for (int j = 0; j < width; j += 16)
                Transpose16(b + j * ldb + p0, ldb, Math.Min(16, cols - j), steps, dst + p0 * width + j, width);
        }
    }

    /// <summary>
    /// Floats from one packed A sliver to the next: 6 kc, plus a spare cache line that the eight-wide moves of
    /// <see cref="PackTransposedA"/> may write into.
    /// </summary>
    public static nint TransposedASliverStride(int kc) => (nint)SgemmKernel6xN.MR * kc + 16;

    /// <summary>
    /// Packs op(A)[0:mc, 0:kc] of stored-transposed A (op(A)[i, p] = a[p * lda + i]) as 6-row slivers: sliver t at
    /// dst + t * TransposedASliverStride(kc), element (i, p) at p * 6 + i. Each stored row is read as one
    /// contiguous run (a stride the prefetchers follow); rows of the last sliver past mc are left unset.
    /// </summary>
    public static void PackTransposedA(float* a, nint lda, int mc, int kc, float* dst)
    {
        const int mr = SgemmKernel6xN.MR;
        nint stride = TransposedASliverStride(kc);
        // Eight-wide moves: each overwrites the two spare floats of the one before it, and the last one of a sliver
        // lands in the spare line. Only the last sliver's move may read past mc, so it alone is masked.
        // Only the last one or two moves would read past mc; they are masked.
        int whole = mc >= 8 ? (mc - 8) / mr + 1 : 0;
        int slivers = (mc + mr - 1) / mr;
        for (int p = 0; p < kc; p++)
        {
            float* src = a + p * lda, d = dst + p * mr;
            int t = 0;
            for (; t < whole; t++) Vector256.Load(src + t * mr).Store(d + t * stride);
            for (; t < slivers; t++)
            {
                Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(mc - t * mr))
                    .AsSingle();
                Avx.MaskLoad(src + t * mr, mask).Store(d + t * stride);
            }
        }
    }

    /// <summary>The first <paramref name="count"/> floats at <paramref name="src"/> (all 16 when count &gt;= 16),
    /// zeros after them; nothing past count is read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadPartial(float* src, int count)
    {
        if (count >= 16) return Vector512.Load(src);
        Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
        return Avx512F.MaskLoad(src, mask, default);
    }

    /// <summary>
    /// dst[q * ldd + r] = src[r * lds + q] for r &lt; 16, q &lt; <paramref name="steps"/>: rows at or past
    /// <paramref name="rows"/> give zeros and nothing past them or past <paramref name="steps"/> is read.
    /// </summary>
    [SkipLocalsInit]
    private static void Transpose16(float* src, nint lds, int rows, int steps, float* dst, nint ldd)
    {
        if (rows == 16 && steps == 16)
        {
            Transpose16x16(src, lds, dst, ldd);
            return;
        }
        // An edge block goes through a zero-padded 16 x 16 tile on the stack.
        float* tile = stackalloc float[16 * 16];
        float* result = stackalloc float[16 * 16];
        for (int r = 0; r < 16; r++) (r < rows ? LoadPartial(src + r * lds, steps) : default).Store(tile + 16 * r);
        Transpose16x16(tile, 16, result, 16);
        for (int q = 0; q < steps; q++) Vector512.Load(result + 16 * q).Store(dst + q * ldd);
    }

    /// <summary>dst[q * ldd + r] = src[r * lds + q] for a whole 16 x 16 block, in registers.</summary>
    private static void Transpose16x16(float* src, nint lds, float* dst, nint ldd)
    {
        // Interleave row pairs (32-bit), then pairs of pairs (64-bit), within each 128-bit lane: afterwards lane L
        // of u[4g + c] holds rows 4g..4g+3 of column 4L + c.
        Vector512<float> u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15;
        Quad(src, lds, out u0, out u1, out u2, out u3);
        Quad(src + 4 * lds, lds, out u4, out u5, out u6, out u7);
        Quad(src + 8 * lds, lds, out u8, out u9, out u10, out u11);
        Quad(src + 12 * lds, lds, out u12, out u13, out u14, out u15);
        // Gather the four lanes of each column: 0x88 takes lanes 0 and 2 of each source, 0xDD lanes 1 and 3.
        Lanes(u0, u4, u8, u12, dst, ldd);
        Lanes(u1, u5, u9, u13, dst + ldd, ldd);
        Lanes(u2, u6, u10, u14, dst + 2 * ldd, ldd);
        Lanes(u3, u7, u11, u15, dst + 3 * ldd, ldd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(float* src, nint lds, out Vector512<float> c0, out Vector512<float> c1,
        out Vector512<float> c2, out Vector512<float> c3)
    {
        Vector512<float> r0 = Vector512.Load(src), r1 = Vector512.Load(src + lds);
        Vector512<float> r2 = Vector512.Load(src + 2 * lds), r3 = Vector512.Load(src + 3 * lds);
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
        Vector512<double> t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        Vector512<double> t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        c0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        c1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        c2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        c3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
    }

    // Column c of every lane: output rows c, 4 + c, 8 + c and 12 + c (dst points at row c).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3,
        float* dst, nint ldd)
    {
        Vector512<float> v0 = Avx512F.Shuffle4x128(g0, g1, 0x88);
        Vector512<float> v1 = Avx512F.Shuffle4x128(g0, g1, 0xDD);
        Vector512<float> v2 = Avx512F.Shuffle4x128(g2, g3, 0x88);
        Vector512<float> v3 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        Avx512F.Shuffle4x128(v0, v2, 0x88).Store(dst);
        Avx512F.Shuffle4x128(v1, v3, 0x88).Store(dst + 4 * ldd);
        Avx512F.Shuffle4x128(v0, v2, 0xDD).Store(dst + 8 * ldd);
        Avx512F.Shuffle4x128(v1, v3, 0xDD).Store(dst + 12 * ldd);
    }
}
