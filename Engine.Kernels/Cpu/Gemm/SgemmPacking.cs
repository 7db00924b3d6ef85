using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Copies blocks of op(A) and op(B) into the sliver layout the micro-kernels read: contiguous, in k order, padded
/// with zeros to whole tiles, so the kernels never see a transpose, a leading dimension or an edge.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>
    /// Packs op(A)[0:mc, 0:kc] (<paramref name="a"/> points at op(A)[0, 0]) into ceil(mc / mr) slivers:
    /// dst[s * kc * mr + p * mr + i] = op(A)[s * mr + i, p], zero for rows at or past mc.
    /// </summary>
    public static void PackA(bool trans, float* a, nint lda, int mc, int kc, int mr, float* dst)
    {
        if (trans)
        {
            PackTransposedA(a, lda, mc, kc, mr, dst);
            return;
        }
        for (int i0 = 0; i0 < mc; i0 += mr)
        {
            int rows = Math.Min(mr, mc - i0);
            // op(A)[i, p] = a[i * lda + p]: walk the rows of the sliver side by side.
            for (int i = 0; i < rows; i++)
            {
                float* src = a + (i0 + i) * lda;
                float* d = dst + i;
                for (int p = 0; p < kc; p++) d[p * mr] = src[p];
            }
            for (int i = rows; i < mr; i++)
            {
                float* d = dst + i;
                for (int p = 0; p < kc; p++) d[p * mr] = 0f;
            }
            dst += (nint)kc * mr;
        }
    }

    /// <summary>
    /// The m rows of op(A) for stored-transposed A (a[p * lda + i] is op(A)[i, p]) into <paramref name="dst"/>, k
    /// apart: for the unpacked paths, whose rows of A must be contiguous.
    /// </summary>
    public static void GatherRows(float* a, nint lda, int m, int k, float* dst)
    {
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                dst[i * k + p] = a[p * lda + i];
    }

    /// <summary>
    /// <see cref="PackA"/> for stored-transposed A, op(A)[i, p] = a[p * lda + i]: eight stored rows at a time, their
    /// mc values dealt out to the slivers, so each sliver receives 8 mr consecutive floats (six-row slivers: 48
    /// floats, three whole cache lines) while the eight rows are read as eight streams. One stored row at a time
    /// wrote 24 bytes into each of mc / 6 slivers 6 KB apart, lines that share two L1 sets and were evicted half
    /// written (a 512 x 512 A from L3: 0.093 ms, now 0.068-0.072); sliver by sliver over all kc rows, each
    /// sliver read 24 bytes from each of kc rows lda apart (a power of two), which fell in a few L1 sets: every
    /// sliver read its lines from L2 again.
    /// </summary>
    private static void PackTransposedA(float* a, nint lda, int mc, int kc, int mr, float* dst)
    {
        const int rowsAtOnce = 8;
        int full = mc / mr, rest = mc - full * mr;
        nint sliver = (nint)kc * mr;
        for (int p = 0; p < kc; p += rowsAtOnce)
        {
            int rows = Math.Min(rowsAtOnce, kc - p);
            float* src = a + p * lda, d = dst + p * mr;
            for (int s = 0; s < full; s++, src += mr, d += sliver)
            {
                float* r = src;
                if (mr == 6)
                {
                    for (int q = 0; q < rows; q++, r += lda) Move6(r, d + 6 * q);
                }
                else
                {
                    for (int q = 0; q < rows; q++, r += lda)
                    {
                        for (int i = 0; i < mr; i++) d[q * mr + i] = r[i];
                    }
                }
            }
            if (rest > 0)
            {
                for (int q = 0; q < rows; q++, src += lda, d += mr)
                {
                    for (int i = 0; i < rest; i++) d[i] = src[i];
                    for (int i = rest; i < mr; i++) d[i] = 0f;
                }
            }
        }
    }

    /// <summary>Six floats in two moves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Move6(float* src, float* dst)
    {
        Vector128.Store(Vector128.Load(src), dst);
        *(long*)(dst + 4) = *(long*)(src + 4);
    }

    /// <summary>
    /// Packs op(B)[0:kc, 0:nc] (<paramref name="b"/> points at op(B)[0, 0]) into ceil(nc / nr) slivers:
    /// dst[s * kc * nr + p * nr + j] = op(B)[p, s * nr + j], zero for columns at or past nc.
    /// </summary>
    public static void PackB(bool trans, float* b, nint ldb, int kc, int nc, int nr, float* dst)
    {
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            if (trans)
            {
                // op(B)[p, j] = b[j * ldb + p]. Sixteen steps of p at a time: one cache line of each stored row
                // is read whole and scattered to sixteen packed rows, which stay in L1. A whole stored row at a
                // time would scatter down kc packed rows 256 bytes apart, which map to a few L1 sets and thrash.
                for (int p0 = 0; p0 < kc; p0 += 16)
                {
                    int steps = Math.Min(16, kc - p0);
                    float* d0 = dst + (nint)p0 * nr;
                    int j = 0;
                    if (Avx512F.IsSupported && steps == 16)
                    {
                        for (; j + 16 <= cols; j += 16) Transpose16x16(b + (j0 + j) * ldb + p0, ldb, d0 + j, nr);
                    }
                    // The 8-column groups left (all of them without AVX-512, or in 8-wide Vector128 slivers).
                    if (Avx.IsSupported && steps == 16)
                    {
                        for (; j + 8 <= cols; j += 8)
                        {
                            Transpose8x8(b + (j0 + j) * ldb + p0, ldb, d0 + j, nr);
                            Transpose8x8(b + (j0 + j) * ldb + p0 + 8, ldb, d0 + 8 * nr + j, nr);
                        }
                    }
                    // 4-column groups: ARM64's 8-wide slivers (AdvSimd), and the rest of a sliver elsewhere.
                    if (Lanes128.IsSupported && steps == 16)
                    {
                        for (; j + 4 <= cols; j += 4)
                        {
                            for (int q = 0; q < 16; q += 4)
                                Lanes128.Transpose4x4(b + (j0 + j) * ldb + p0 + q, ldb, d0 + q * nr + j, nr);
                        }
                    }
                    for (; j < cols; j++)
                    {
                        float* src = b + (j0 + j) * ldb + p0;
                        float* d = d0 + j;
                        for (int p = 0; p < steps; p++) d[p * nr] = src[p];
                    }
                }
                if (cols < nr)
                {
                    for (int p = 0; p < kc; p++) Clear(dst + p * nr + cols, nr - cols);
                }
            }
            else
            {
                // op(B)[p, j] = b[p * ldb + j]: each step is one contiguous run of a row.
                if (cols == nr && nr % 4 == 0)
                {
                    // Whole slivers in vector moves: a span copy per 16 floats cost a call each, a tenth of the
                    // packing time.
                    for (int p = 0; p < kc; p++) CopyVectors(b + p * ldb + j0, dst + p * nr, nr);
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* d = dst + p * nr;
                        Copy(b + p * ldb + j0, d, cols);
                        if (cols < nr) Clear(d + cols, nr - cols);
                    }
                }
            }
            dst += (nint)kc * nr;
        }
    }

    /// <summary>dst[q * ldd + r] = src[r * lds + q] for a 16 x 16 block, in registers.</summary>
    private static void Transpose16x16(float* src, nint lds, float* dst, nint ldd)
    {
        // Interleave row pairs, then pairs of pairs (64-bit), within each 128-bit lane: afterwards lane L of
        // u[4g + c] holds rows 4g..4g+3 of column 4L + c.
        Span<Vector512<float>> u = stackalloc Vector512<float>[16];
        for (int g = 0; g < 4; g++)
        {
            float* r = src + 4 * g * lds;
            Vector512<float> r0 = Vector512.Load(r), r1 = Vector512.Load(r + lds);
            Vector512<float> r2 = Vector512.Load(r + 2 * lds), r3 = Vector512.Load(r + 3 * lds);
            Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
            Vector512<double> t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
            Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
            Vector512<double> t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
            u[4 * g] = Avx512F.UnpackLow(t0, t2).AsSingle();
            u[4 * g + 1] = Avx512F.UnpackHigh(t0, t2).AsSingle();
            u[4 * g + 2] = Avx512F.UnpackLow(t1, t3).AsSingle();
            u[4 * g + 3] = Avx512F.UnpackHigh(t1, t3).AsSingle();
        }
        // Gather the four lanes of each column: 0x88 takes lanes 0 and 2 of each source, 0xDD lanes 1 and 3.
        for (int col = 0; col < 4; col++)
        {
            Vector512<float> v0 = Avx512F.Shuffle4x128(u[col], u[4 + col], 0x88);
            Vector512<float> v1 = Avx512F.Shuffle4x128(u[col], u[4 + col], 0xDD);
            Vector512<float> v2 = Avx512F.Shuffle4x128(u[8 + col], u[12 + col], 0x88);
            Vector512<float> v3 = Avx512F.Shuffle4x128(u[8 + col], u[12 + col], 0xDD);
            Avx512F.Shuffle4x128(v0, v2, 0x88).Store(dst + col * ldd);
            Avx512F.Shuffle4x128(v1, v3, 0x88).Store(dst + (4 + col) * ldd);
            Avx512F.Shuffle4x128(v0, v2, 0xDD).Store(dst + (8 + col) * ldd);
            Avx512F.Shuffle4x128(v1, v3, 0xDD).Store(dst + (12 + col) * ldd);
        }
    }

    /// <summary>dst[q * ldd + r] = src[r * lds + q] for an 8 x 8 block, in registers (AVX).</summary>
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        // Rows r0..r7; interleave pairs (32-bit), then pairs of pairs (64-bit) within each 128-bit lane, then swap
        // lanes: afterwards output row q holds element q of every input row.
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + lds);
        Vector256<float> r2 = Vector256.Load(src + 2 * lds), r3 = Vector256.Load(src + 3 * lds);
        Vector256<float> r4 = Vector256.Load(src + 4 * lds), r5 = Vector256.Load(src + 5 * lds);
        Vector256<float> r6 = Vector256.Load(src + 6 * lds), r7 = Vector256.Load(src + 7 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        // 0x44 takes elements 0, 1 of each source lane and 0xEE elements 2, 3.
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        // 0x20 joins the low lanes of both sources, 0x31 the high lanes.
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + ldd);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * ldd);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * ldd);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * ldd);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * ldd);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * ldd);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * ldd);
    }

    /// <summary>Copies <paramref name="count"/> floats, a multiple of 4, in the widest vectors that fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyVectors(float* src, float* dst, int count)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= count; j += 8) Vector256.Load(src + j).Store(dst + j);
        }
        for (; j < count; j += 4) Vector128.Load(src + j).Store(dst + j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int count) =>
        new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(float* dst, int count) => new Span<float>(dst, count).Clear();
}
