namespace Engine.Tests.Conformance.Reference;

/// <summary>The living definition of GEMM: three loops in double precision, no blocking, no tricks.</summary>
public static class GemmReference
{
    /// <summary>
    /// Returns a copy of <paramref name="c"/> with C[i, j] = alpha * sum_p op(A)[i, p] * op(B)[p, j]
    /// + beta * C[i, j] for i &lt; m, j &lt; n (beta == 0 ignores C), every other element untouched.
    /// </summary>
    public static double[] Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
        double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc, long offsetA = 0,
        long offsetB = 0, long offsetC = 0)
    {
        var result = (double[])c.Clone();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double aip = transA ? a[offsetA + (long)p * lda + i] : a[offsetA + (long)i * lda + p];
                    double bpj = transB ? b[offsetB + (long)j * ldb + p] : b[offsetB + (long)p * ldb + j];
                    sum += aip * bpj;
                }
                long ci = offsetC + (long)i * ldc + j;
                result[ci] = beta == 0 ? alpha * sum : alpha * sum + beta * c[ci];
            }
        }
        return result;
    }

    /// <summary>Each batch item through <see cref="Gemm"/>; stride 0 reuses one matrix for every item.</summary>
    public static double[] BatchedGemm(int batch, bool transA, bool transB, int m, int n, int k, double alpha,
        double[] a, long strideA, double[] b, long strideB, double beta, double[] c, long strideC)
    {
        var result = (double[])c.Clone();
        for (int i = 0; i < batch; i++)
        {
            result = Gemm(transA, transB, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n, beta, result, n,
                i * strideA, i * strideB, i * strideC);
        }
        return result;
    }
}
