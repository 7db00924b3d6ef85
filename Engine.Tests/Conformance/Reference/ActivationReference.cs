namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// ELU, SELU, GELU and PReLU from their definitions in double. erfc is integrated numerically (2/sqrt(pi) times
/// the integral of exp(-t^2) from |u|), a route independent of the kernels' series and continued fraction.
/// </summary>
public static class ActivationReference
{
    public const double SeluAlpha = 1.6732632423543772848170429916717;
    public const double SeluLambda = 1.0507009873554804934193349852946;

    public static double Elu(double x, double alpha) => x > 0 ? x : alpha * (Math.Exp(x) - 1);

    public static double Selu(double x) => SeluLambda * Elu(x, SeluAlpha);

    public static double Gelu(double x) => x * 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>d/dx x Phi(x) = Phi(x) + x phi(x).</summary>
    public static double GeluDerivative(double x) =>
        0.5 * Erfc(-x / Math.Sqrt(2)) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);

    public static double PRelu(double x, double slope) => x > 0 ? x : slope * x;

    public static double Erfc(double u)
    {
        // Beyond sqrt(a^2 + 50) the integrand is below e^-50 of its start. Simpson with n and 2n intervals,
        // combined as (16 S_2n - S_n) / 15 (one Romberg step), is accurate to ~1e-15 of the value here.
        double a = Math.Abs(u), b = Math.Sqrt(a * a + 50);
        double tail = 2 / Math.Sqrt(Math.PI) * (16 * Simpson(a, b, 4000) - Simpson(a, b, 2000)) / 15;
        return u >= 0 ? tail : 2 - tail;
    }

    private static double Simpson(double a, double b, int n)
    {
        double h = (b - a) / n, sum = 0;
        for (int k = 0; k <= n; k++)
        {
            double t = a + k * h;
            sum += (k == 0 || k == n ? 1 : k % 2 == 1 ? 4 : 2) * Math.Exp(-t * t);
        }
        return sum * h / 3;
    }
}
