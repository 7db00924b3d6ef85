using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// A complete reduction from elements <typeparamref name="T"/> through accumulators <typeparamref name="A"/>
/// (double for float sums, so a float32 sum keeps float64 accuracy) back to <typeparamref name="T"/>. The drivers
/// in <see cref="ReduceDriver"/> walk the layout; a reducer supplies the arithmetic and the two SIMD line kernels.
/// </summary>
internal unsafe interface IReducer<T, A> where T : unmanaged where A : unmanaged
{
    static abstract A Identity { get; }

    /// <summary>The accumulator contribution of one element.</summary>
    static abstract A Map(T x);

    static abstract A Combine(A a, A b);

    /// <summary>The result from the accumulator of <paramref name="count"/> elements (a mean divides).</summary>
    static abstract T Finish(A acc, long count);

    /// <summary>Reduces <paramref name="n"/> contiguous elements (horizontal, several vector accumulators).</summary>
    static abstract A ReduceLine(T* p, nint n);

    /// <summary>acc[i] = Combine(acc[i], Map(p[i])) for i in [0, n) (vertical).</summary>
    static abstract void AccumulateLine(A* acc, T* p, nint n);
}
