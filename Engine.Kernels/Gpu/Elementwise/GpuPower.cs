using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;

namespace Engine.Kernels.Gpu;

/// <summary>
/// x^y on the GPU, with the CPU operator's results: MathF.Pow for float, Math.Pow for double, and integer powers
/// computed in double and truncated. One operator per type, chosen on the host.
/// </summary>
public static class GpuPower
{
    internal static void Run<T>(GpuElementwiseDriver driver, KernelContext context, in TensorArg a, in TensorArg b,
        in TensorArg y) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) driver.BinaryCore<PowerFloat, float>(context, default, a, b, y);
        else if (typeof(T) == typeof(double)) driver.BinaryCore<PowerDouble, double>(context, default, a, b, y);
        else if (typeof(T) == typeof(int)) driver.BinaryCore<PowerInt, int>(context, default, a, b, y);
        else if (typeof(T) == typeof(long)) driver.BinaryCore<PowerLong, long>(context, default, a, b, y);
        else
            throw new NotSupportedException(
                $"{context.Op}: power of {typeof(T).Name} is not supported on the GPU; use float, double, int " +
                "or long.");
    }

    public readonly struct PowerFloat : IBinaryOperator<float>
    {
        public float Invoke(float x, float y) => MathF.Pow(x, y);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => throw new NotSupportedException();
    }

    public readonly struct PowerDouble : IBinaryOperator<double>
    {
        public double Invoke(double x, double y) => Math.Pow(x, y);
        public Vector512<double> Invoke(Vector512<double> x, Vector512<double> y) => throw new NotSupportedException();
    }

    public readonly struct PowerInt : IBinaryOperator<int>
    {
        public int Invoke(int x, int y) => (int)Math.Pow(x, y);
        public Vector512<int> Invoke(Vector512<int> x, Vector512<int> y) => throw new NotSupportedException();
    }

    public readonly struct PowerLong : IBinaryOperator<long>
    {
        public long Invoke(long x, long y) => (long)Math.Pow(x, y);
        public Vector512<long> Invoke(Vector512<long> x, Vector512<long> y) => throw new NotSupportedException();
    }
}
