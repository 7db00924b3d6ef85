namespace Engine.Tests.Support;

/// <summary>A tolerance: |actual - expected| &lt;= Atol + Rtol * |expected|.</summary>
public readonly record struct Tolerance(double Rtol, double Atol)
{
    public bool Accepts(double actual, double expected)
    {
        if (double.IsNaN(expected)) return double.IsNaN(actual);
        if (double.IsInfinity(expected)) return actual == expected;
        return Math.Abs(actual - expected) <= Atol + Rtol * Math.Abs(expected);
    }
}

/// <summary>
/// Every tolerance the suites use, in one place. Float32 kernels that sum many terms (GEMM, convolution,
/// reductions) are compared with a relative bound that grows with the summed length: the rounding error of a
/// float32 sum of n terms is at most about n * 2^-24 of the sum of magnitudes, and blocked or vectorized
/// summation orders differ from the naive reference by that much.
/// </summary>
public static class Tolerances
{
    /// <summary>Exact operations: copies, comparisons, max/min, integer arithmetic, indexing.</summary>
    public static readonly Tolerance Exact = new(0, 0);

    /// <summary>One float32 rounding plus a vectorized transcendental (exp, log, tanh) against double math.</summary>
    public static readonly Tolerance Float32Elementwise = new(2e-6, 1e-6);

    /// <summary>Transcendentals computed with vector approximations (exp, log, tanh, pow).</summary>
    public static readonly Tolerance Float32Transcendental = new(1e-5, 1e-6);

    /// <summary>A float32 accumulation of <paramref name="terms"/> products or values.</summary>
    public static Tolerance Float32Sum(long terms) => new(Math.Max(1e-5, 4e-7 * Math.Sqrt(terms) * 4), 1e-5);

    /// <summary>Float64 kernels against a float64 reference.</summary>
    public static readonly Tolerance Float64 = new(1e-12, 1e-12);

    /// <summary>Engine float32 output against PyTorch float32 golden data (different summation orders).</summary>
    public static readonly Tolerance Golden = new(1e-4, 1e-5);

    /// <summary>Float64 elementwise results against Math's functions: a few units in the last place.</summary>
    public static readonly Tolerance Float64Elementwise = new(1e-14, 1e-15);

    /// <summary>A float64 accumulation of <paramref name="terms"/> values in a different order.</summary>
    public static Tolerance Float64Sum(long terms) => new(Math.Max(1e-12, 1e-15 * Math.Sqrt(terms)), 1e-12);

    /// <summary>
    /// Float32 GEMM with inner dimension k: the Float32Sum bound, with an absolute floor that grows with k because
    /// outputs near zero carry the rounding of partial sums about sqrt(k)/3 in size.
    /// </summary>
    public static Tolerance Float32Gemm(int k) => new(Float32Sum(k).Rtol, Math.Max(1e-5, 8e-8 * k));

    /// <summary>Analytic gradients against central differences (step 1e-6) in float64.</summary>
    public static readonly Tolerance FiniteDifference = new(1e-5, 1e-7);

    /// <summary>Batch-norm statistics (mean, 1/std) accumulated in double from float32 input.</summary>
    public static readonly Tolerance Float32Statistics = new(1e-6, 0);

    /// <summary>Several float32 optimizer steps against a float64 reference of the update rule.</summary>
    public static readonly Tolerance Float32OptimizerSteps = new(2e-5, 2e-6);
}
