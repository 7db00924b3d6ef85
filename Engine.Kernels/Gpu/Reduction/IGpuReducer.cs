using System.Numerics;

namespace Engine.Kernels.Gpu;

/// <summary>
/// A reduction for GPU kernels: elements of T mapped to an accumulator A, combined, and finished into T. The
/// identity is passed by the host (ILGPU cannot compile the generic-math constants that test types inside).
/// </summary>
public interface IGpuReducer<T, A> where T : unmanaged where A : unmanaged
{
    A Map(T x);

    A Combine(A a, A b);

    T Finish(A acc, int count);
}

/// <summary>Sum in the element type (double; int and long wrap around, as on the CPU).</summary>
public readonly struct SumReducer<T> : IGpuReducer<T, T> where T : unmanaged, INumber<T>
{
    public T Map(T x) => x;
    public T Combine(T a, T b) => a + b;
    public T Finish(T acc, int count) => acc;
}

public readonly struct ProdReducer<T> : IGpuReducer<T, T> where T : unmanaged, INumber<T>
{
    public T Map(T x) => x;
    public T Combine(T a, T b) => a * b;
    public T Finish(T acc, int count) => acc;
}

/// <summary>Maximum; NaN propagates.</summary>
public readonly struct MaxReducer<T> : IGpuReducer<T, T> where T : unmanaged, INumber<T>
{
    public T Map(T x) => x;
    public T Combine(T a, T b) => T.IsNaN(a) || a > b ? a : b;
    public T Finish(T acc, int count) => acc;
}

/// <summary>Minimum; NaN propagates.</summary>
public readonly struct MinReducer<T> : IGpuReducer<T, T> where T : unmanaged, INumber<T>
{
    public T Map(T x) => x;
    public T Combine(T a, T b) => T.IsNaN(a) || a < b ? a : b;
    public T Finish(T acc, int count) => acc;
}

public readonly struct MeanReducer : IGpuReducer<double, double>
{
    public double Map(double x) => x;
    public double Combine(double a, double b) => a + b;
    public double Finish(double acc, int count) => acc / count;
}

public readonly struct NormReducer : IGpuReducer<double, double>
{
    public double Map(double x) => x * x;
    public double Combine(double a, double b) => a + b;
    public double Finish(double acc, int count) => Math.Sqrt(acc);
}

public readonly struct NormL1Reducer : IGpuReducer<double, double>
{
    public double Map(double x) => Math.Abs(x);
    public double Combine(double a, double b) => a + b;
    public double Finish(double acc, int count) => acc;
}

/// <summary>Float sums accumulate in double, as the CPU's widening reducer does.</summary>
public readonly struct FloatSumReducer : IGpuReducer<float, double>
{
    public double Map(float x) => x;
    public double Combine(double a, double b) => a + b;
    public float Finish(double acc, int count) => (float)acc;
}

public readonly struct FloatMeanReducer : IGpuReducer<float, double>
{
    public double Map(float x) => x;
    public double Combine(double a, double b) => a + b;
    public float Finish(double acc, int count) => (float)(acc / count);
}

public readonly struct FloatNormReducer : IGpuReducer<float, double>
{
    public double Map(float x) => (double)x * x;
    public double Combine(double a, double b) => a + b;
    public float Finish(double acc, int count) => (float)Math.Sqrt(acc);
}

public readonly struct FloatNormL1Reducer : IGpuReducer<float, double>
{
    public double Map(float x) => Math.Abs(x);
    public double Combine(double a, double b) => a + b;
    public float Finish(double acc, int count) => (float)acc;
}

public readonly struct FloatProdReducer : IGpuReducer<float, double>
{
    public double Map(float x) => x;
    public double Combine(double a, double b) => a * b;
    public float Finish(double acc, int count) => (float)acc;
}
