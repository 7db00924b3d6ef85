using System.Numerics;
using Engine.Memory;

namespace Engine.Kernels.Cpu;

/// <summary>
/// GEMM for any IEEE floating-point type (double, and float where no SIMD kernel applies): op(B) is packed
/// block by block into a contiguous row-major copy, then each row of C takes one AXPY per k step, vectorized with
/// <see cref="Vector{T}"/> where the type allows. Simple, correct for every layout, and fast enough for the
/// float64 gradient checks it exists for. Here m, n, k &gt; 0 and alpha != 0.
/// </summary>
internal static unsafe class GenericGemm
{
    // A packed B block KC x NC of doubles is 128 x 256 x 8 B = 256 KB (L2); one row of C, 2 KB, stays in L1.
    private const int KC = 128;
    private const int NC = 256;

    /// <summary>Splits the rows of C across threads; each row is summed the same way whatever the split.</summary>
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        long grain = Math.Max(1, SgemmDriver.MinWorkPerThread / ((long)n * k));
        CpuParallel.For(m, grain, (r0, r1) =>
        {
            int rows = (int)(r1 - r0);
            T* a0 = (T*)pa + (transA ? (nint)r0 : (nint)r0 * lda);
            Serial(transA, transB, rows, n, k, alpha, a0, lda, (T*)pb, ldb, beta, (T*)pc + (nint)r0 * ldc, ldc);
        });
    }

    private static void Serial<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int kcMax = Math.Min(KC, k), ncMax = Math.Min(NC, n);
        using var buffer = CpuMemoryPool.Shared.Rent((long)kcMax * ncMax * sizeof(T));
        T* pack = (T*)buffer.Pointer;
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                PackB(transB, b, ldb, pc, jc, kc, nc, pack);
                for (int i = 0; i < m; i++)
                {
                    T* ci = c + i * ldc + jc;
                    if (pc == 0) ScaleRow(ci, nc, beta);
                    for (int p = 0; p < kc; p++)
                    {
                        T aip = transA ? a[(pc + p) * lda + i] : a[i * lda + pc + p];
                        Axpy(alpha * aip, pack + (nint)p * nc, ci, nc);
                    }
                }
            }
        }
    }

    /// <summary>pack[p * nc + j] = op(B)[pc + p, jc + j].</summary>
    private static void PackB<T>(bool trans, T* b, nint ldb, int pc, int jc, int kc, int nc, T* pack)
        where T : unmanaged
    {
        for (int p = 0; p < kc; p++)
        {
            T* d = pack + (nint)p * nc;
            if (trans)
            {
                T* src = b + jc * ldb + pc + p;
                for (int j = 0; j < nc; j++) d[j] = src[j * ldb];
            }
            else
            {
                new ReadOnlySpan<T>(b + (pc + p) * ldb + jc, nc).CopyTo(new Span<T>(d, nc));
            }
        }
    }

    /// <summary>C row = beta * C row; beta == 0 overwrites with zeros without reading (NaN does not survive).</summary>
    internal static void ScaleRow<T>(T* c, int n, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (T.IsZero(beta))
        {
            new Span<T>(c, n).Clear();
        }
        else if (beta != T.One)
        {
            for (int j = 0; j < n; j++) c[j] = beta * c[j];
        }
    }

    /// <summary>y += s * x.</summary>
    private static void Axpy<T>(T s, T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && n >= Vector<T>.Count)
        {
            var vs = new Vector<T>(s);
            for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
                Vector.Store(Vector.Load(y + j) + vs * Vector.Load(x + j), y + j);
        }
        for (; j < n; j++) y[j] += s * x[j];
    }
}
