using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Matrix products on the GPU. Float32: a tiled, register-blocked SGEMM (64 x 64 tiles of C per group of 16 x 16
/// threads, 4 x 4 accumulators per thread in registers, 16-deep slices of A and B staged in padded shared memory),
/// written over <see cref="IMatrixSource"/> and <see cref="IMatrixTarget"/> so that convolutions run through the same
/// kernel as implicit GEMMs. FP32 exact by default; with <see cref="AllowTf32"/> on a CUDA device of compute
/// capability 8.0 or newer, products go through TF32 tensor cores (mma.sync). Float64: a plain kernel, one thread
/// per element of C.
/// </summary>
public static class GpuGemm
{
    public const int TileM = 64, TileN = 64, TileK = 16;

    /// <summary>Shared-memory rows are padded by 4 floats so the staging stores do not collide in one bank.</summary>
    private const int PaddedM = TileM + 4, PaddedN = TileN + 4;

    /// <summary>Whether float products may use TF32 tensor cores (10-bit mantissas) where the device has them.
    /// </summary>
    public static bool AllowTf32 { get; set; }

    /// <summary>C = alpha * op(A) * op(B) + beta * C for row-major matrices in contiguous views.</summary>
    public static void Gemm<T>(GpuRuntime runtime, bool transA, bool transB, int m, int n, int k, T alpha,
        in TensorArg a, int lda, in TensorArg b, int ldb, T beta, in TensorArg c, int ldc)
        where T : unmanaged, INumber<T> =>
        BatchedGemm(runtime, 1, transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);

    /// <summary>
    /// <paramref name="batch"/> independent products; item i of each operand starts i * stride elements after the
    /// argument's offset. A stride of 0 broadcasts A or B over the batch.
    /// </summary>
    public static void BatchedGemm<T>(GpuRuntime runtime, int batch, bool transA, bool transB, int m, int n, int k,
        T alpha, in TensorArg a, long strideA, int lda, in TensorArg b, long strideB, int ldb, T beta,
        in TensorArg c, long strideC, int ldc) where T : unmanaged, INumber<T>
    {
        const string op = "gemm";
        if (batch < 0 || m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m),
                $"{op}: sizes must be non-negative, got batch {batch}, m {m}, n {n}, k {k}.");
        CheckOperand(op, "A", a, batch, strideA, transA ? k : m, transA ? m : k, lda);
        CheckOperand(op, "B", b, batch, strideB, transB ? n : k, transB ? k : n, ldb);
        CheckOperand(op, "C", c, batch, strideC, m, n, ldc);
        if (batch == 0 || m == 0 || n == 0) return;
        if (typeof(T) == typeof(float))
        {
            var av = a.Buffer<float>(runtime, op);
            var bv = b.Buffer<float>(runtime, op);
            var cv = c.Buffer<float>(runtime, op);
            var sa = new DenseSource
            {
                Data = av, Offset = (int)a.Offset, BatchStride = (int)strideA, Ld = lda, Transposed = transA ? 1 : 0,
            };
            var sb = new DenseSource
            {
                Data = bv, Offset = (int)b.Offset, BatchStride = (int)strideB, Ld = ldb, Transposed = transB ? 1 : 0,
            };
            var tc = new DenseTarget
            {
                Data = cv, Offset = (int)c.Offset, BatchStride = (int)strideC, Ld = ldc,
                Alpha = (float)(object)alpha, Beta = (float)(object)beta,
            };
            Tiled(runtime, sa, sb, tc, batch, m, n, k);
            return;
        }
        if (typeof(T) != typeof(double))
            throw new ArgumentException($"{op}: element type {typeof(T).Name} is not supported; use float or double.");
        var ad = a.Buffer<T>(runtime, op);
        var bd = b.Buffer<T>(runtime, op);
        var cd = c.Buffer<T>(runtime, op);
        var shape = new GemmShape
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
            OffsetA = (int)a.Offset, OffsetB = (int)b.Offset, OffsetC = (int)c.Offset,
            StrideA = (int)strideA, StrideB = (int)strideB, StrideC = (int)strideC,
        };
        long total = (long)batch * m * n;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, GemmShape, T, T, int>(PlainKernel<T>)(
            runtime.Stream, runtime.GridStride(total), ad, bd, cd, shape, alpha, beta, checked((int)total));
    }

    /// <summary>The tiled kernel over any sources and target: z items of an m x n result with depth k.</summary>
    internal static void Tiled<TA, TB, TC>(GpuRuntime runtime, TA a, TB b, TC c, int z, int m, int n, int k)
        where TA : struct, IMatrixSource where TB : struct, IMatrixSource where TC : struct, IMatrixTarget
    {
        if (z == 0 || m == 0 || n == 0) return;
        var config = new KernelConfig(
            new Index3D((n + TileN - 1) / TileN, (m + TileM - 1) / TileM, z), new Index3D(16, 16, 1));
        if (AllowTf32 && GpuTensorCores.Supported(runtime))
        {
            runtime.Kernels.Load<TA, TB, TC, int, int, int>(GpuTensorCores.Tf32Kernel<TA, TB, TC>)(runtime.Stream,
                config, a, b, c, m, n, k);
            return;
        }
        runtime.Kernels.Load<TA, TB, TC, int, int, int>(TiledKernel<TA, TB, TC>)(runtime.Stream, config, a, b, c, m,
            n, k);
    }

    private static void TiledKernel<TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k)
        where TA : struct, IMatrixSource where TB : struct, IMatrixSource where TC : struct, IMatrixTarget
    {
        var sa = SharedMemory.Allocate<float>(TileK * PaddedM);
        var sb = SharedMemory.Allocate<float>(TileK * PaddedN);
        int tx = Group.IdxX, ty = Group.IdxY, tid = ty * 16 + tx;
        int r0 = Grid.IdxY * TileM, c0 = Grid.IdxX * TileN, z = Grid.IdxZ;
        var acc = default(Accumulator4x4);
        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            // A's slice stored transposed (k-major), so the inner loop reads four rows of A with one stride.
            for (int l = tid; l < TileM * TileK; l += 256)
            {
                int mm = l / TileK, kk = l - mm * TileK;
                sa[kk * PaddedM + mm] = r0 + mm < m && k0 + kk < k ? a.Load(z, r0 + mm, k0 + kk) : 0f;
            }
            for (int l = tid; l < TileK * TileN; l += 256)
            {
                int kk = l / TileN, nn = l - kk * TileN;
                sb[kk * PaddedN + nn] = k0 + kk < k && c0 + nn < n ? b.Load(z, k0 + kk, c0 + nn) : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
                acc.Outer(Float4.Load(sa, kk * PaddedM + ty, 16), Float4.Load(sb, kk * PaddedN + tx, 16));
            Group.Barrier();
        }
        acc.Store(c, z, r0 + ty, c0 + tx, m, n);
    }

    /// <summary>Sizes, leading dimensions, offsets and batch strides of a plain (double) product.</summary>
    public struct GemmShape
    {
        public int M, N, K, Lda, Ldb, Ldc, TransA, TransB, OffsetA, OffsetB, OffsetC, StrideA, StrideB, StrideC;
    }

    private static void PlainKernel<T>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, GemmShape s, T alpha, T beta,
        int total) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < total; u += Grid.DimX * Group.DimX)
        {
            int col = u % s.N;
            int rest = u / s.N;
            int row = rest % s.M;
            int z = rest / s.M;
            T sum = T.Zero;
            for (int p = 0; p < s.K; p++)
            {
                T x = a[s.OffsetA + z * s.StrideA + (s.TransA != 0 ? p * s.Lda + row : row * s.Lda + p)];
                T y = b[s.OffsetB + z * s.StrideB + (s.TransB != 0 ? col * s.Ldb + p : p * s.Ldb + col)];
                sum += x * y;
            }
            int i = s.OffsetC + z * s.StrideC + row * s.Ldc + col;
            c[i] = beta == T.Zero ? alpha * sum : alpha * sum + beta * c[i];
        }
    }

    private static void CheckOperand(string op, string name, in TensorArg x, int batch, long stride, int rows,
        int cols, int ld)
    {
        // ld may be 0 when the rows are empty (k = 0), as the CPU GEMM allows.
        if (ld < 0 || ld < cols)
            throw new ArgumentException(
                $"{op}: leading dimension of {name} is {ld}, but its rows have {cols} elements; pass ld >= {cols}.");
        if (batch == 0 || rows == 0 || cols == 0) return;
        long need = x.Offset + (batch - 1) * stride + (long)(rows - 1) * ld + cols;
        long have = x.Buffer.Bytes / x.DType.SizeInBytes();
        if (stride < 0 || need > have)
            throw new ArgumentException(
                $"{op}: {name} needs {need} elements ({batch} items of {rows} x {cols}, ld {ld}, stride {stride}, " +
                $"offset {x.Offset}) but its buffer holds {have}.");
        if (need > GpuTensor.MaxElements)
            throw new NotSupportedException($"{op}: {name} spans more than 2^31 - 1 elements.");
    }
}
