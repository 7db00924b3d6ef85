namespace Engine;

public sealed partial class NDArray
{
    public static NDArray operator +(NDArray a, NDArray b) => Nd.Add(a, b);
    public static NDArray operator -(NDArray a, NDArray b) => Nd.Subtract(a, b);
    public static NDArray operator *(NDArray a, NDArray b) => Nd.Multiply(a, b);
    public static NDArray operator /(NDArray a, NDArray b) => Nd.Divide(a, b);
    public static NDArray operator -(NDArray a) => Nd.Negative(a);

    public static NDArray operator +(NDArray a, double b) => Nd.Add(a, b);
    public static NDArray operator +(double a, NDArray b) => Nd.Add(b, a);
    public static NDArray operator -(NDArray a, double b) => Nd.Subtract(a, b);
    public static NDArray operator -(double a, NDArray b) => Nd.Subtract(a, b);
    public static NDArray operator *(NDArray a, double b) => Nd.Multiply(a, b);
    public static NDArray operator *(double a, NDArray b) => Nd.Multiply(b, a);
    public static NDArray operator /(NDArray a, double b) => Nd.Divide(a, b);
    public static NDArray operator /(double a, NDArray b) => Nd.Divide(a, b);

    // Comparisons return 1 or 0 in the operands' dtype, as MXNet's do (so == is not reference equality).
    public static NDArray operator >(NDArray a, NDArray b) => Nd.Greater(a, b);
    public static NDArray operator <(NDArray a, NDArray b) => Nd.Lesser(a, b);
    public static NDArray operator >=(NDArray a, NDArray b) => Nd.GreaterEqual(a, b);
    public static NDArray operator <=(NDArray a, NDArray b) => Nd.LesserEqual(a, b);
    public static NDArray operator >(NDArray a, double b) => Nd.Greater(a, Nd.Scalar(b, a.DType, a.Device));
    public static NDArray operator <(NDArray a, double b) => Nd.Lesser(a, Nd.Scalar(b, a.DType, a.Device));
    public static NDArray operator >=(NDArray a, double b) => Nd.GreaterEqual(a, Nd.Scalar(b, a.DType, a.Device));
    public static NDArray operator <=(NDArray a, double b) => Nd.LesserEqual(a, Nd.Scalar(b, a.DType, a.Device));

    /// <summary>Elementwise equality as an array of 1 and 0 (MXNet's ==).</summary>
    public NDArray EqualTo(NDArray other) => Nd.Equal(this, other);

    public NDArray NotEqualTo(NDArray other) => Nd.NotEqual(this, other);

    /// <summary>A contiguous copy.</summary>
    public NDArray Copy() => Nd.Copy(this);

    /// <summary>A copy converted to <paramref name="dtype"/> (float to int truncates toward zero).</summary>
    public NDArray AsType(DType dtype) =>
        Ops.CopyOps.Cast.Call(new Ops.CastAttrs(dtype), this);
}
