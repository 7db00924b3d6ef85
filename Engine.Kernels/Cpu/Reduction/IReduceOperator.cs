using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// An associative reduction over values of type <typeparamref name="A"/>: every element is mapped (x, x * x, |x|)
/// and folded into an accumulator with <c>Combine</c>, starting from <c>Identity</c>. The scalar and vector forms
/// must agree lane by lane, so a vector loop and its scalar tail compute the same thing.
/// </summary>
internal interface IReduceOperator<A> where A : unmanaged, INumber<A>
{
    static abstract A Identity { get; }

    static abstract A Map(A x);

    static abstract A Combine(A a, A b);

    static abstract Vector128<A> Map(Vector128<A> x);

    static abstract Vector128<A> Combine(Vector128<A> a, Vector128<A> b);

    static abstract Vector256<A> Map(Vector256<A> x);

    static abstract Vector256<A> Combine(Vector256<A> a, Vector256<A> b);

    static abstract Vector512<A> Map(Vector512<A> x);

    static abstract Vector512<A> Combine(Vector512<A> a, Vector512<A> b);
}
