using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// SGEMM through <see cref="CpuGemm.Gemm{T}"/> on the shapes of cases.json: squares, and the dense layers of the
/// MLP and LeNet in the three forms FullyConnected runs (fwd NT, dx NN, dw TN). Reports GFLOP/s (2 m n k). On
/// another device (--device) each case is Nd.Dot on arrays there, the product the GPU backend's SGEMM computes.
/// </summary>
public static class GemmSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        var random = new Random(1);
        foreach (var g in BenchCases.Current.Gemm)
        {
            if (!ctx.Wants(g.Case)) continue;
            if (!ctx.OnCpu)
            {
                yield return OnDevice(ctx, g, random);
                continue;
            }
            using var body = SetUp(g, random);
            yield return ctx.Measure(g.Case, body.Run, g.Flops);
        }
    }

    /// <summary>The case on the CPU: <see cref="CpuGemm.Gemm{T}"/> on operands uniform in [-1, 1).</summary>
    internal static CaseBody SetUp(GemmCase g, Random random)
    {
        // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k when transposed).
        var a = new NativeFloats((long)g.M * g.K, random);
        var b = new NativeFloats((long)g.K * g.N, random);
        var c = new NativeFloats((long)g.M * g.N);
        int lda = g.TransA ? g.M : g.K, ldb = g.TransB ? g.K : g.N;
        return new CaseBody(
            () => CpuGemm.Gemm(g.TransA, g.TransB, g.M, g.N, g.K, 1f, a.Span, lda, b.Span, ldb, 0f, c.Span, g.N),
            a, b, c);
    }

    private static BenchResult OnDevice(BenchContext ctx, GemmCase g, Random random)
    {
        using var a = g.TransA ? ctx.Uniform(random, g.K, g.M) : ctx.Uniform(random, g.M, g.K);
        using var b = g.TransB ? ctx.Uniform(random, g.N, g.K) : ctx.Uniform(random, g.K, g.N);
        return ctx.Measure(g.Case, () => Nd.Dot(a, b, g.TransA, g.TransB).Dispose(), g.Flops);
    }
}
