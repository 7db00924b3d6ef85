using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// General matrix multiplication on row-major data, BLAS style: C = alpha * op(A) * op(B) + beta * C, where
/// op(A) is m x k (A is stored k x m when transA), op(B) is k x n (stored n x k when transB) and C is m x n.
/// Leading dimensions are the distance in elements between consecutive stored rows. beta == 0 overwrites C
/// without reading it, so NaN in an uninitialised C does not survive; alpha == 0 or k == 0 reads neither A nor B
/// (C = beta * C), as in BLAS.
/// <para>
/// Float runs the cache-blocked AVX-512 kernels (SgemmAvx512Driver), or an unpacked row-by-row path when C has only
/// one or two rows or K is very small (SgemmSmallM); without AVX-512, the packed SgemmDriver with the 6 x 16
/// Vector256 (AVX2 + FMA) or 6 x 8 Vector128 (SSE, ARM64 AdvSimd) micro-kernel, and with AVX2 the row-by-row path
/// for very small K. Up to eight rows of C (with
/// AVX-512: three to eight rows times stored-transposed B) run the few-rows path (SgemmFewRows), which streams B
/// once without packing it. Double (and any other IEEE type) runs a simpler blocked path (GenericGemm).
/// Large products are split across CpuParallel's threads; every element is summed in the same order whatever
/// the thread count, so results are bitwise reproducible.
/// </para>
/// </summary>
public static class CpuGemm
{
    /// <summary>C = alpha * op(A) * op(B) + beta * C on one set of matrices.</summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "gemm";
        ValidateDims(op, m, n, k);
        ValidateLeadingDims(op, transA, transB, m, n, k, lda, ldb, ldc);
        long needA = MatrixSpan(transA ? k : m, transA ? m : k, lda);
        long needB = MatrixSpan(transB ? n : k, transB ? k : n, ldb);
        long needC = MatrixSpan(m, n, ldc);
        // The messages are built only on failure: formatting them on every call cost as much as a small GEMM.
        if (a.Length < needA)
            ThrowShort(op, "a", a.Length, needA, $"a {Dims(transA ? k : m, transA ? m : k)} matrix with lda {lda}");
        if (b.Length < needB)
            ThrowShort(op, "b", b.Length, needB, $"a {Dims(transB ? n : k, transB ? k : n)} matrix with ldb {ldb}");
        if (c.Length < needC) ThrowShort(op, "c", c.Length, needC, $"a {Dims(m, n)} matrix with ldc {ldc}");
        ValidateNoAlias(op, a, b, c);
        GemmCore(GemmKernelChoice.Auto, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs; matrix i of each operand starts at i * stride. A stride of 0
    /// broadcasts A or B over the batch (one weight matrix for every item); C needs its own matrix per item.
    /// </summary>
    public static void BatchedGemm<T>(int batch, bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, long strideA, ReadOnlySpan<T> b, long strideB, T beta, Span<T> c, long strideC)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "batched_gemm";
        if (batch < 0)
            throw new ArgumentOutOfRangeException(nameof(batch),
                $"{op}: batch must be non-negative, got {batch}.");
        ValidateDims(op, m, n, k);
        int lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
        ValidateStride(op, "a", strideA);
        ValidateStride(op, "b", strideB);
        ValidateStride(op, "c", strideC);
        long needA = MatrixSpan(transA ? k : m, lda, lda);
        long needB = MatrixSpan(transB ? n : k, ldb, ldb);
        long needC = MatrixSpan(m, n, ldc);
        if (batch > 1 && needC > 0 && strideC < needC)
            throw new ArgumentException(
                $"{op}: strideC {strideC} is smaller than one {m} x {n} output matrix ({needC} elements), so " +
                $"the outputs of different batch items would overlap; pass strideC >= {needC}.", nameof(strideC));
        long spanA = BatchSpan(batch, strideA, needA), spanB = BatchSpan(batch, strideB, needB);
        long spanC = BatchSpan(batch, strideC, needC);
        if (a.Length < spanA)
            ThrowShort(op, "a", a.Length, spanA,
                $"{batch} matrices of {Dims(transA ? k : m, lda)} at strideA {strideA}");
        if (b.Length < spanB)
            ThrowShort(op, "b", b.Length, spanB,
                $"{batch} matrices of {Dims(transB ? n : k, ldb)} at strideB {strideB}");
        if (c.Length < spanC)
            ThrowShort(op, "c", c.Length, spanC, $"{batch} matrices of {Dims(m, n)} at strideC {strideC}");
        ValidateNoAlias(op, a, b, c);
        BatchedGemmCore(GemmKernelChoice.Auto, batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta,
            c, strideC);
    }

    /// <summary>Runs validated arguments through the chosen implementation.</summary>
    internal static unsafe void GemmCore<T>(GemmKernelChoice kernel, bool transA, bool transB, int m, int n, int k,
        T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            GemmCore(kernel, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    /// <summary>Runs validated batched arguments: in parallel over items when each is too small to split.</summary>
    internal static unsafe void BatchedGemmCore<T>(GemmKernelChoice kernel, int batch, bool transA, bool transB,
        int m, int n, int k, T alpha, ReadOnlySpan<T> a, long strideA, ReadOnlySpan<T> b, long strideB, T beta,
        Span<T> c, long strideC)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch == 0 || m == 0 || n == 0) return;
        nint lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            nint a0 = (nint)pa, b0 = (nint)pb, c0 = (nint)pc;
            long work = (long)m * n * k;
            if (work < 2 * SgemmDriver.MinWorkPerThread)
            {
                // Each item runs on one thread; threads take whole items.
                long grain = Math.Max(1, SgemmDriver.MinWorkPerThread / Math.Max(1, work));
                CpuParallel.For(batch, grain, (s, e) =>
                {
                    for (long i = s; i < e; i++)
                        GemmCore(kernel, transA, transB, m, n, k, alpha, (T*)a0 + i * strideA, lda,
                            (T*)b0 + i * strideB, ldb, beta, (T*)c0 + i * strideC, ldc);
                });
            }
            else
            {
                for (long i = 0; i < batch; i++)
                    GemmCore(kernel, transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb,
                        beta, pc + i * strideC, ldc);
            }
        }
    }

    private static unsafe void GemmCore<T>(GemmKernelChoice kernel, bool transA, bool transB, int m, int n, int k,
        T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (k == 0 || T.IsZero(alpha))
        {
            // op(A) * op(B) contributes nothing (BLAS does not read A and B here either): C = beta * C.
            for (int i = 0; i < m; i++) GenericGemm.ScaleRow(c + i * ldc, n, beta);
            return;
        }
        if (typeof(T) == typeof(float))
        {
            if (kernel == GemmKernelChoice.Auto) kernel = ChooseFloat(transB, m, n, k);
            float fa = Unsafe.BitCast<T, float>(alpha), fb = Unsafe.BitCast<T, float>(beta);
            float* fA = (float*)a, fB = (float*)b, fC = (float*)c;
            switch (kernel)
            {
                case GemmKernelChoice.SmallM512:
                    SgemmSmallM<Simd512, Vector512<float>>.Run(transA, transB, m, n, k, fa, fA, lda, fB, ldb, fb,
                        fC, ldc);
                    return;
                case GemmKernelChoice.SmallM256:
                    SgemmSmallM<Simd256, Vector256<float>>.Run(transA, transB, m, n, k, fa, fA, lda, fB, ldb, fb,
                        fC, ldc);
                    return;
                case GemmKernelChoice.Avx512:
                    SgemmAvx512Driver.Run(transA, transB, m, n, k, fa, fA, lda, fB, ldb, fb, fC, ldc);
                    return;
                case GemmKernelChoice.Avx2:
                    SgemmDriver.Run<SgemmKernel6x2V<Simd256, Vector256<float>>>(transA, transB, m, n, k, fa, fA, lda,
                        fB, ldb, fb, fC, ldc);
                    return;
                case GemmKernelChoice.Vector128:
                    SgemmDriver.Run<SgemmKernel6x2V<Simd128, Vector128<float>>>(transA, transB, m, n, k, fa, fA,
                        lda, fB, ldb, fb, fC, ldc);
                    return;
                case GemmKernelChoice.FewRows512:
                    SgemmFewRows<Simd512, Vector512<float>>.Run(transA, transB, m, n, k, fa, fA, lda, fB, ldb, fb,
                        fC, ldc);
                    return;
                case GemmKernelChoice.FewRows256:
                    SgemmFewRows<Simd256, Vector256<float>>.Run(transA, transB, m, n, k, fa, fA, lda, fB, ldb, fb,
                        fC, ldc);
                    return;
                case GemmKernelChoice.FewRows128:
                    SgemmFewRows<Simd128, Vector128<float>>.Run(transA, transB, m, n, k, fa, fA, lda, fB, ldb, fb,
                        fC, ldc);
                    return;
            }
        }
        GenericGemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Rows of C up to which Auto runs the few-rows path (<see cref="SgemmFewRows{TSimd, TV}"/>), which streams B
    /// once without packing it. With AVX-512 it takes only stored-transposed B (FullyConnected's x W^T): the
    /// AVX-512 driver already reads row-major B in place for a few rows.
    /// </summary>
    internal const int FewRowsMax = 8;

    /// <summary>
    /// Columns of C up to which a product with stored-transposed B and any number of rows runs the few-rows dot
    /// products (see <see cref="NarrowHead"/>): a classifier's last layer, x W^T into ten classes.
    /// </summary>
    internal const int NarrowHeadMaxColumns = 16;

    /// <summary>
    /// Shallowest k for <see cref="NarrowHead"/>: the dot products end in lane sums and a scalar tail, which a
    /// shallow product cannot repay. 256 x 10 x 256 (an MLP's 256 -> 10 head at batch 256), one thread, fastest of
    /// two runs each: 27.6-40.2 us on the AVX-512 tiles against 18.4-25.7 as dot products, 24.4-36.2 against
    /// 23.2-24.4 with AVX2; at k = 84 (LeNet's 84 -> 10) the dot products were slower, 15.1-15.3 against 9.5-9.8 us
    /// (AVX-512) and 13.0-14.6 against 9.5-12.8 (AVX2). With this rule, three runs each: 19.0-20.3 us (AVX-512)
    /// and 22.6-23.5 us (AVX2).
    /// </summary>
    internal const int NarrowHeadMinDepth = 256;

    /// <summary>
    /// Whether x W^T into at most <see cref="NarrowHeadMaxColumns"/> columns runs as dot products whatever m is:
    /// with so few columns the packed drivers' tiles are mostly padding (AVX2: 10 of 16 columns) or wait on FMA
    /// latency (AVX-512: one 16-column vector, six FMA chains), where each dot product streams both rows. Only
    /// below the size at which the drivers split work across threads (the dot products split by 64 columns, so
    /// here not at all), and only from <see cref="NarrowHeadMinDepth"/> on.
    /// </summary>
    internal static bool NarrowHead(bool transB, int m, int n, int k) =>
        transB && n <= NarrowHeadMaxColumns && k >= NarrowHeadMinDepth &&
        (long)m * n * k < 2 * SgemmDriver.MinWorkPerThread;

    /// <summary>The float implementation Auto runs for this shape on this machine's widest vectors.</summary>
    internal static GemmKernelChoice ChooseFloat(bool transB, int m, int n, int k)
    {
        bool fewRows = m <= FewRowsMax || NarrowHead(transB, m, n, k);
        if (SgemmKernel6xN.IsSupported)
        {
            if (transB && fewRows) return GemmKernelChoice.FewRows512;
            if (m <= SgemmSmallM.MaxRows || SgemmSmallM.SuitsShallow(transB, n, k)) return GemmKernelChoice.SmallM512;
            return m <= FewRowsMax ? GemmKernelChoice.FewRows512 : GemmKernelChoice.Avx512;
        }
        if (Simd256.IsSupported)
        {
            if (fewRows) return GemmKernelChoice.FewRows256;
            return SgemmSmallM.SuitsShallow(transB, n, k) ? GemmKernelChoice.SmallM256 : GemmKernelChoice.Avx2;
        }
        if (Simd128.IsSupported) return fewRows ? GemmKernelChoice.FewRows128 : GemmKernelChoice.Vector128;
        return GemmKernelChoice.Generic;
    }

    /// <summary>Elements from the first to one past the last of a rows x cols matrix, rows ld apart.</summary>
    private static long MatrixSpan(int rows, int cols, long ld) =>
        rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;

    private static string Dims(int rows, int cols) => $"{rows} x {cols}";

    private static void ValidateDims(string op, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            string name = m < 0 ? nameof(m) : n < 0 ? nameof(n) : nameof(k);
            throw new ArgumentOutOfRangeException(name,
                $"{op}: {name} must be non-negative, got m = {m}, n = {n}, k = {k}.");
        }
    }

    private static void ValidateLeadingDims(string op, bool transA, bool transB, int m, int n, int k,
        int lda, int ldb, int ldc)
    {
        ValidateLeadingDim(op, "a", "lda", lda, transA ? k : m, transA ? m : k,
            transA ? "A is stored k x m because transA is true" : "A is stored m x k");
        ValidateLeadingDim(op, "b", "ldb", ldb, transB ? n : k, transB ? k : n,
            transB ? "B is stored n x k because transB is true" : "B is stored k x n");
        ValidateLeadingDim(op, "c", "ldc", ldc, m, n, "C is m x n");
    }

    private static void ValidateLeadingDim(string op, string matrix, string name, int ld, int rows, int cols,
        string how)
    {
        if (ld < cols)
            throw new ArgumentOutOfRangeException(name,
                $"{op}: {name} {ld} is smaller than the {cols} columns of {matrix} ({how}: {rows} x {cols}); " +
                $"pass {name} >= {cols}, the distance in elements between consecutive rows.");
    }

    private static void ValidateStride(string op, string matrix, long stride)
    {
        if (stride < 0)
            throw new ArgumentOutOfRangeException("stride" + char.ToUpperInvariant(matrix[0]),
                $"{op}: stride{char.ToUpperInvariant(matrix[0])} must be non-negative, got {stride}; " +
                "use 0 to broadcast one matrix over the batch.");
    }

    private static void ThrowShort(string op, string matrix, int length, long need, string what) =>
        throw new ArgumentException(
            $"{op}: {matrix} has {length} elements but {what} needs {need}; pass a larger buffer or check " +
            "the dimensions, leading dimension and stride.", matrix);

    /// <summary>Elements from the start of item 0 to the end of the last item.</summary>
    private static long BatchSpan(int batch, long stride, long need) =>
        batch == 0 || need == 0 ? 0 : (batch - 1L) * stride + need;

    private static void ValidateNoAlias<T>(string op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c)
    {
        if (c.IsEmpty) return;
        ReadOnlySpan<T> cr = c;
        if (cr.Overlaps(a) || cr.Overlaps(b))
            throw new ArgumentException(
                $"{op}: c overlaps {(cr.Overlaps(a) ? "a" : "b")}; the output must be a separate buffer from the " +
                "inputs.", nameof(c));
    }
}
