using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    public static NDArray Add(NDArray a, NDArray b) => ElementwiseOps.Add.Call(NoAttrs.Instance, a, b);
    public static NDArray Subtract(NDArray a, NDArray b) => ElementwiseOps.Subtract.Call(NoAttrs.Instance, a, b);
    public static NDArray Multiply(NDArray a, NDArray b) => ElementwiseOps.Multiply.Call(NoAttrs.Instance, a, b);
    public static NDArray Divide(NDArray a, NDArray b) => ElementwiseOps.Divide.Call(NoAttrs.Instance, a, b);
    public static NDArray Power(NDArray a, NDArray b) => ElementwiseOps.Power.Call(NoAttrs.Instance, a, b);
    public static NDArray Maximum(NDArray a, NDArray b) => ElementwiseOps.Maximum.Call(NoAttrs.Instance, a, b);
    public static NDArray Minimum(NDArray a, NDArray b) => ElementwiseOps.Minimum.Call(NoAttrs.Instance, a, b);
    public static NDArray Equal(NDArray a, NDArray b) => ElementwiseOps.Equal.Call(NoAttrs.Instance, a, b);
    public static NDArray NotEqual(NDArray a, NDArray b) => ElementwiseOps.NotEqual.Call(NoAttrs.Instance, a, b);
    public static NDArray Greater(NDArray a, NDArray b) => ElementwiseOps.Greater.Call(NoAttrs.Instance, a, b);

    public static NDArray GreaterEqual(NDArray a, NDArray b) =>
        ElementwiseOps.GreaterEqual.Call(NoAttrs.Instance, a, b);

    public static NDArray Lesser(NDArray a, NDArray b) => ElementwiseOps.Lesser.Call(NoAttrs.Instance, a, b);

    public static NDArray LesserEqual(NDArray a, NDArray b) =>
        ElementwiseOps.LesserEqual.Call(NoAttrs.Instance, a, b);

    public static NDArray Add(NDArray a, double b) => Add(a, ScalarLike(a, b));
    public static NDArray Subtract(NDArray a, double b) => Subtract(a, ScalarLike(a, b));
    public static NDArray Subtract(double a, NDArray b) => Subtract(ScalarLike(b, a), b);
    public static NDArray Multiply(NDArray a, double b) => Multiply(a, ScalarLike(a, b));
    public static NDArray Divide(NDArray a, double b) => Divide(a, ScalarLike(a, b));
    public static NDArray Divide(double a, NDArray b) => Divide(ScalarLike(b, a), b);
    public static NDArray Power(NDArray a, double b) => Power(a, ScalarLike(a, b));
    public static NDArray Maximum(NDArray a, double b) => Maximum(a, ScalarLike(a, b));
    public static NDArray Minimum(NDArray a, double b) => Minimum(a, ScalarLike(a, b));

    public static NDArray Negative(NDArray x) => ElementwiseOps.Negative.Call(NoAttrs.Instance, x);
    public static NDArray Abs(NDArray x) => ElementwiseOps.Abs.Call(NoAttrs.Instance, x);
    public static NDArray Sign(NDArray x) => ElementwiseOps.Sign.Call(NoAttrs.Instance, x);
    public static NDArray Square(NDArray x) => ElementwiseOps.Square.Call(NoAttrs.Instance, x);
    public static NDArray Relu(NDArray x) => ElementwiseOps.Relu.Call(NoAttrs.Instance, x);
    public static NDArray Exp(NDArray x) => ElementwiseOps.Exp.Call(NoAttrs.Instance, x);
    public static NDArray Log(NDArray x) => ElementwiseOps.Log.Call(NoAttrs.Instance, x);
    public static NDArray Sqrt(NDArray x) => ElementwiseOps.Sqrt.Call(NoAttrs.Instance, x);
    public static NDArray Rsqrt(NDArray x) => ElementwiseOps.Rsqrt.Call(NoAttrs.Instance, x);
    public static NDArray Reciprocal(NDArray x) => ElementwiseOps.Reciprocal.Call(NoAttrs.Instance, x);
    public static NDArray Sigmoid(NDArray x) => ElementwiseOps.Sigmoid.Call(NoAttrs.Instance, x);
    public static NDArray Tanh(NDArray x) => ElementwiseOps.Tanh.Call(NoAttrs.Instance, x);
    public static NDArray SoftRelu(NDArray x) => ElementwiseOps.SoftRelu.Call(NoAttrs.Instance, x);
    public static NDArray SoftSign(NDArray x) => ElementwiseOps.SoftSign.Call(NoAttrs.Instance, x);

    public static NDArray Clip(NDArray x, double min, double max) =>
        ElementwiseOps.Clip.Call(new ClipAttrs(min, max), x);

    public static NDArray LeakyRelu(NDArray x, double slope = 0.25) =>
        ElementwiseOps.LeakyRelu.Call(new LeakyReluAttrs(slope), x);

    /// <summary>Elements of <paramref name="x"/> where <paramref name="condition"/> is non-zero, else of y.</summary>
    public static NDArray Where(NDArray condition, NDArray x, NDArray y) =>
        ElementwiseOps.Where.Call(NoAttrs.Instance, condition, x, y);

    private static NDArray ScalarLike(NDArray like, double value) => Scalar(value, like.DType, like.Device);
}
