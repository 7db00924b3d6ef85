using System.Numerics;
using System.Runtime.Intrinsics;

// The six reduction operators sit together: each is a handful of one-line members, and reading them side by side
// is how one checks that the scalar and vector forms agree.
namespace Engine.Kernels.Cpu;

/// <summary>sum(x). Integer sums wrap around.</summary>
internal readonly struct SumOperator<A> : IReduceOperator<A> where A : unmanaged, INumber<A>
{
    public static A Identity => A.Zero;
    public static A Map(A x) => x;
    public static A Combine(A a, A b) => a + b;
    public static Vector128<A> Map(Vector128<A> x) => x;
    public static Vector256<A> Map(Vector256<A> x) => x;
    public static Vector128<A> Combine(Vector128<A> a, Vector128<A> b) => a + b;
    public static Vector256<A> Combine(Vector256<A> a, Vector256<A> b) => a + b;
    public static Vector512<A> Map(Vector512<A> x) => x;
    public static Vector512<A> Combine(Vector512<A> a, Vector512<A> b) => a + b;
}

/// <summary>prod(x). Integer products wrap around.</summary>
internal readonly struct ProdOperator<A> : IReduceOperator<A> where A : unmanaged, INumber<A>
{
    public static A Identity => A.One;
    public static A Map(A x) => x;
    public static A Combine(A a, A b) => a * b;
    public static Vector128<A> Map(Vector128<A> x) => x;
    public static Vector256<A> Map(Vector256<A> x) => x;
    public static Vector128<A> Combine(Vector128<A> a, Vector128<A> b) => a * b;
    public static Vector256<A> Combine(Vector256<A> a, Vector256<A> b) => a * b;
    public static Vector512<A> Map(Vector512<A> x) => x;
    public static Vector512<A> Combine(Vector512<A> a, Vector512<A> b) => a * b;
}

/// <summary>
/// max(x). Scalar and vector Max are IEEE 754-2019 maximum in .NET: a NaN operand gives NaN, so NaN propagates.
/// The identity is -infinity for floating types and MinValue for integers (a saturating conversion gives both).
/// </summary>
internal readonly struct MaxOperator<A> : IReduceOperator<A> where A : unmanaged, INumber<A>
{
    public static A Identity => A.CreateSaturating(double.NegativeInfinity);
    public static A Map(A x) => x;
    public static A Combine(A a, A b) => A.Max(a, b);
    public static Vector128<A> Map(Vector128<A> x) => x;
    public static Vector256<A> Map(Vector256<A> x) => x;
    public static Vector128<A> Combine(Vector128<A> a, Vector128<A> b) => Vector128.Max(a, b);
    public static Vector256<A> Combine(Vector256<A> a, Vector256<A> b) => Vector256.Max(a, b);
    public static Vector512<A> Map(Vector512<A> x) => x;
    public static Vector512<A> Combine(Vector512<A> a, Vector512<A> b) => Vector512.Max(a, b);
}

/// <summary>min(x), NaN-propagating like <see cref="MaxOperator{A}"/>.</summary>
internal readonly struct MinOperator<A> : IReduceOperator<A> where A : unmanaged, INumber<A>
{
    public static A Identity => A.CreateSaturating(double.PositiveInfinity);
    public static A Map(A x) => x;
    public static A Combine(A a, A b) => A.Min(a, b);
    public static Vector128<A> Map(Vector128<A> x) => x;
    public static Vector256<A> Map(Vector256<A> x) => x;
    public static Vector128<A> Combine(Vector128<A> a, Vector128<A> b) => Vector128.Min(a, b);
    public static Vector256<A> Combine(Vector256<A> a, Vector256<A> b) => Vector256.Min(a, b);
    public static Vector512<A> Map(Vector512<A> x) => x;
    public static Vector512<A> Combine(Vector512<A> a, Vector512<A> b) => Vector512.Min(a, b);
}

/// <summary>sum(x * x), the square of the L2 norm.</summary>
internal readonly struct SumSquaresOperator<A> : IReduceOperator<A> where A : unmanaged, INumber<A>
{
    public static A Identity => A.Zero;
    public static A Map(A x) => x * x;
    public static A Combine(A a, A b) => a + b;
    public static Vector128<A> Map(Vector128<A> x) => x * x;
    public static Vector256<A> Map(Vector256<A> x) => x * x;
    public static Vector128<A> Combine(Vector128<A> a, Vector128<A> b) => a + b;
    public static Vector256<A> Combine(Vector256<A> a, Vector256<A> b) => a + b;
    public static Vector512<A> Map(Vector512<A> x) => x * x;
    public static Vector512<A> Combine(Vector512<A> a, Vector512<A> b) => a + b;
}

/// <summary>sum(|x|), the L1 norm.</summary>
internal readonly struct SumAbsOperator<A> : IReduceOperator<A> where A : unmanaged, INumber<A>
{
    public static A Identity => A.Zero;
    public static A Map(A x) => A.Abs(x);
    public static A Combine(A a, A b) => a + b;
    public static Vector128<A> Map(Vector128<A> x) => Vector128.Abs(x);
    public static Vector256<A> Map(Vector256<A> x) => Vector256.Abs(x);
    public static Vector128<A> Combine(Vector128<A> a, Vector128<A> b) => a + b;
    public static Vector256<A> Combine(Vector256<A> a, Vector256<A> b) => a + b;
    public static Vector512<A> Map(Vector512<A> x) => Vector512.Abs(x);
    public static Vector512<A> Combine(Vector512<A> a, Vector512<A> b) => a + b;
}
