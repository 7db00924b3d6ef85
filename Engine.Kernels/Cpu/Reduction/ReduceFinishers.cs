using System.Numerics;

// The finishers sit together: each is one line, the last step of a reduction.
namespace Engine.Kernels.Cpu;

/// <summary>Turns an accumulator into a result.</summary>
internal interface IFinisher<A, T>
{
    static abstract T Finish(A acc, long count);
}

/// <summary>The accumulator is the result (rounded to <typeparamref name="T"/>).</summary>
internal readonly struct PlainFinisher<A, T> : IFinisher<A, T>
    where A : INumberBase<A> where T : INumberBase<T>
{
    public static T Finish(A acc, long count) => T.CreateTruncating(acc);
}

/// <summary>acc / count; 0 / 0 makes the mean of an empty reduction NaN, as NumPy's.</summary>
internal readonly struct MeanFinisher<A, T> : IFinisher<A, T>
    where A : IFloatingPoint<A> where T : INumberBase<T>
{
    public static T Finish(A acc, long count) => T.CreateTruncating(acc / A.CreateTruncating(count));
}

/// <summary>sqrt(acc), for the L2 norm.</summary>
internal readonly struct SqrtFinisher<A, T> : IFinisher<A, T>
    where A : IFloatingPointIeee754<A> where T : INumberBase<T>
{
    public static T Finish(A acc, long count) => T.CreateTruncating(A.Sqrt(acc));
}
