namespace Engine.Kernels.Gpu;

/// <summary>
/// Conversions a kernel generic over float and double needs, as a zero-size struct argument that ILGPU specialises
/// per instantiation (generic math's CreateTruncating tests types at run time, which ILGPU cannot compile).
/// </summary>
public interface IGpuReal<T> where T : unmanaged
{
    T FromInt(int value);

    T FromDouble(double value);

    double ToDouble(T value);
}

public readonly struct FloatReal : IGpuReal<float>
{
    public float FromInt(int value) => value;

    public float FromDouble(double value) => (float)value;

    public double ToDouble(float value) => value;
}

public readonly struct DoubleReal : IGpuReal<double>
{
    public double FromInt(int value) => value;

    public double FromDouble(double value) => value;

    public double ToDouble(double value) => value;
}
