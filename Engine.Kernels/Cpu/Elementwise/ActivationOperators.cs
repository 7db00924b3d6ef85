using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The complementary error function, erfc(u) = 1 - erf(u), accurate relative to its value for every u (so
/// 1 + erf(u) = erfc(-u) keeps its digits where it is tiny). Float uses a Chebyshev-fitted exponential form with
/// relative error below 1.2e-7 (Numerical Recipes' erfcc); double uses series and continued fraction, accurate
/// to a few units in the last place.
/// </summary>
public static class Erfc
{
    private const double InvSqrtPi = 0.56418958354775628695;

    /// <summary>erfc for float: t = 1 / (1 + |u| / 2), erfc(|u|) = t exp(-u^2 + P(t)), P a degree-9 fit.</summary>
    public static float Single(float u)
    {
        float a = MathF.Abs(u);
        float t = 1f / (1f + 0.5f * a);
        float r = t * MathF.Exp(-a * a + Poly(t));
        return u >= 0 ? r : 2f - r;
    }

    public static Vector512<float> Single(Vector512<float> u)
    {
        var a = Vector512.Abs(u);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * a);
        var r = t * Vector512.Exp(-(a * a) + Poly(t));
        return Vector512.ConditionalSelect(Vector512.LessThan(u, Vector512<float>.Zero), Vector512.Create(2f) - r, r);
    }

    private static float Poly(float t) =>
        -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
        t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));

    private static Vector512<float> Poly(Vector512<float> t)
    {
        var p = Vector512.Create(0.17087277f);
        p = p * t + Vector512.Create(-0.82215223f);
        p = p * t + Vector512.Create(1.48851587f);
        p = p * t + Vector512.Create(-1.13520398f);
        p = p * t + Vector512.Create(0.27886807f);
        p = p * t + Vector512.Create(-0.18628806f);
        p = p * t + Vector512.Create(0.09678418f);
        p = p * t + Vector512.Create(0.37409196f);
        p = p * t + Vector512.Create(1.00002368f);
        return p * t + Vector512.Create(-1.26551223f);
    }

    /// <summary>erfc for double. For |u| &lt; 1.5, 1 - erf with erf(u) = 2/sqrt(pi) e^(-u^2) sum (2u^2)^n u /
    /// (1*3*...*(2n+1)), whose terms are all positive (no cancellation; 50 terms reach 1e-17 at u = 1.5); beyond,
    /// the continued fraction e^(-u^2)/sqrt(pi) / (u + (1/2)/(u + 1/(u + (3/2)/(u + ...)))), 100 levels deep
    /// (converged to 1e-16 from u = 1.5).</summary>
    public static double Double(double u)
    {
        if (double.IsNaN(u)) return u;
        double a = Math.Abs(u), r;
        if (a < 1.5)
        {
            double term = a, sum = a, q = 2 * a * a;
            for (int n = 1; n <= 50; n++)
            {
                term *= q / (2 * n + 1);
                sum += term;
            }
            r = 1 - 2 * InvSqrtPi * Math.Exp(-a * a) * sum;
        }
        else if (a > 27)
        {
            r = 0;   // below double's smallest subnormal
        }
        else
        {
            double f = a;
            for (int k = 100; k > 0; k--) f = a + 0.5 * k / f;
            r = Math.Exp(-a * a) * InvSqrtPi / f;
        }
        return u >= 0 ? r : 2 - r;
    }

    /// <summary>Lane by lane: the double form has data-dependent loops.</summary>
    public static Vector512<double> Double(Vector512<double> u)
    {
        Span<double> v = stackalloc double[Vector512<double>.Count];
        u.CopyTo(v);
        for (int k = 0; k < v.Length; k++) v[k] = Double(v[k]);
        return Vector512.Create<double>(v);
    }
}

/// <summary>ELU: x for x &gt; 0, alpha (exp(x) - 1) otherwise (MXNet's LeakyReLU act_type='elu', slope = alpha).
/// </summary>
public readonly struct EluOperator<T>(T alpha) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => x > T.Zero ? x : alpha * (T.Exp(x) - T.One);

    public Vector512<T> Invoke(Vector512<T> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x,
            Vector512.Create(alpha) * (VectorMath.Exp(Vector512.Min(x, Vector512<T>.Zero)) - Vector512<T>.One));
}

/// <summary>SELU: lambda * elu(x) with alpha = 1.6732632423543772 and lambda = 1.0507009873554805 fixed
/// (Klambauer et al.; MXNet's act_type='selu'); they come through the constructor (<see cref="Create"/>).</summary>
public readonly struct SeluOperator<T>(T alpha, T lambda) : IUnaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public const double AlphaValue = 1.6732632423543772848170429916717;
    public const double LambdaValue = 1.0507009873554804934193349852946;

    public static SeluOperator<T> Create() => new(T.CreateTruncating(AlphaValue), T.CreateTruncating(LambdaValue));

    public T Invoke(T x) => lambda * (x > T.Zero ? x : alpha * (T.Exp(x) - T.One));

    public Vector512<T> Invoke(Vector512<T> x) =>
        Vector512.Create(lambda) * Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x,
            Vector512.Create(alpha) * (VectorMath.Exp(Vector512.Min(x, Vector512<T>.Zero)) - Vector512<T>.One));
}

/// <summary>
/// GELU, erf form (MXNet 1.9's act_type='gelu', PyTorch's default), float32: x Phi(x) with
/// Phi(x) = (1 + erf(x / sqrt 2)) / 2 written as erfc(-x / sqrt 2) / 2, which keeps its relative accuracy for
/// large negative x. One struct per dtype, so the GPU compiles the scalar form without type tests.
/// </summary>
public readonly struct GeluSingleOperator : IUnaryOperator<float>
{
    public float Invoke(float x) => x * Normal.Cdf(x);

    public Vector512<float> Invoke(Vector512<float> x) => x * Normal.Cdf(x);
}

/// <summary>GELU in float64 (see <see cref="GeluSingleOperator"/>).</summary>
public readonly struct GeluDoubleOperator : IUnaryOperator<double>
{
    public double Invoke(double x) => x * Normal.Cdf(x);

    public Vector512<double> Invoke(Vector512<double> x) => x * Normal.Cdf(x);
}

/// <summary>The gradient of GELU from its input, float32: (x, dy) gives dy (Phi(x) + x phi(x)), phi the normal
/// density.</summary>
public readonly struct GeluBackwardSingleOperator : IBinaryOperator<float>
{
    public float Invoke(float x, float dy) => dy * (Normal.Cdf(x) + x * Normal.Density(x));

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        dy * (Normal.Cdf(x) + x * Normal.Density(x));
}

/// <summary>The gradient of GELU in float64.</summary>
public readonly struct GeluBackwardDoubleOperator : IBinaryOperator<double>
{
    public double Invoke(double x, double dy) => dy * (Normal.Cdf(x) + x * Normal.Density(x));

    public Vector512<double> Invoke(Vector512<double> x, Vector512<double> dy) =>
        dy * (Normal.Cdf(x) + x * Normal.Density(x));
}

/// <summary>The standard normal distribution's CDF Phi(x) = erfc(-x / sqrt 2) / 2 and density.</summary>
public static class Normal
{
    private const double InvSqrt2 = 0.70710678118654752440, InvSqrt2Pi = 0.39894228040143267794;

    public static float Cdf(float x) => 0.5f * Erfc.Single(-x * (float)InvSqrt2);

    public static double Cdf(double x) => 0.5 * Erfc.Double(-x * InvSqrt2);

    public static Vector512<float> Cdf(Vector512<float> x) =>
        Vector512.Create(0.5f) * Erfc.Single(-x * Vector512.Create((float)InvSqrt2));

    public static Vector512<double> Cdf(Vector512<double> x) =>
        Vector512.Create(0.5) * Erfc.Double(-x * Vector512.Create(InvSqrt2));

    public static float Density(float x) => (float)InvSqrt2Pi * MathF.Exp(-0.5f * x * x);

    public static double Density(double x) => InvSqrt2Pi * Math.Exp(-0.5 * x * x);

    public static Vector512<float> Density(Vector512<float> x) =>
        Vector512.Create((float)InvSqrt2Pi) * Vector512.Exp(-(x * x) * Vector512.Create(0.5f));

    public static Vector512<double> Density(Vector512<double> x) =>
        Vector512.Create(InvSqrt2Pi) * Vector512.Exp(-(x * x) * Vector512.Create(0.5));
}

/// <summary>PReLU with the slope as a second (broadcast) operand: x for x &gt; 0, slope * x otherwise.</summary>
public readonly struct PReluOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T slope) => x > T.Zero ? x : slope * x;

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> slope) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * slope);
}
