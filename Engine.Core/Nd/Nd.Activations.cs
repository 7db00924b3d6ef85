using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    /// <summary>ELU: x for x &gt; 0, alpha (exp(x) - 1) otherwise (MXNet's LeakyReLU act_type='elu').</summary>
    public static NDArray Elu(NDArray x, double alpha = 1) => ActivationOps.Elu.Call(new EluAttrs(alpha), x);

    /// <summary>SELU: lambda elu(x) with alpha 1.6732632423543772 and lambda 1.0507009873554805.</summary>
    public static NDArray Selu(NDArray x) => ActivationOps.Selu.Call(NoAttrs.Instance, x);

    /// <summary>GELU, erf form: x (1 + erf(x / sqrt 2)) / 2 (MXNet 1.9's LeakyReLU act_type='gelu').</summary>
    public static NDArray Gelu(NDArray x) => ActivationOps.Gelu.Call(NoAttrs.Instance, x);

    /// <summary>PReLU: x for x &gt; 0, alpha x otherwise, alpha of shape (channels,) on axis 1 or (1,).</summary>
    public static NDArray PRelu(NDArray x, NDArray alpha) => ActivationOps.PRelu.Call(NoAttrs.Instance, x, alpha);

    /// <summary>Swish: x sigmoid(beta x) (SiLU for beta = 1), composed as Gluon's Swish is.</summary>
    public static NDArray Swish(NDArray x, double beta = 1) => x * Sigmoid(x * beta);

    /// <summary>
    /// Layer normalisation over <paramref name="axis"/> (MXNet's LayerNorm): each sample's values along the axis
    /// are normalised with their own mean and biased variance, then scaled by gamma and shifted by beta, both of
    /// shape (x.Shape[axis],).
    /// </summary>
    public static NDArray LayerNorm(NDArray x, NDArray gamma, NDArray beta, int axis = -1, double epsilon = 1e-5) =>
        SampleNorm(SampleNormOps.LayerNorm, new LayerNormAttrs(axis, epsilon), x, gamma, beta);

    /// <summary>
    /// Instance normalisation of (N, C, spatial...) input (MXNet's InstanceNorm): each sample's channel is
    /// normalised over its spatial positions; gamma and beta have shape (C,). MXNet's operator default epsilon
    /// is 1e-3; Gluon's InstanceNorm layer passes 1e-5.
    /// </summary>
    public static NDArray InstanceNorm(NDArray x, NDArray gamma, NDArray beta, double epsilon = 1e-3) =>
        SampleNorm(SampleNormOps.InstanceNorm, new InstanceNormAttrs(epsilon), x, gamma, beta);

    /// <summary>
    /// Group normalisation of (N, C, spatial...) input (MXNet 1.x's GroupNorm): channels split into
    /// <paramref name="numGroups"/> groups, each sample's group normalised over its channels and positions;
    /// gamma and beta have one value per group, shape (numGroups,), as in MXNet 1.x.
    /// </summary>
    public static NDArray GroupNorm(NDArray x, NDArray gamma, NDArray beta, int numGroups = 1,
        double epsilon = 1e-5) =>
        SampleNorm(SampleNormOps.GroupNorm, new GroupNormAttrs(numGroups, epsilon), x, gamma, beta);

    private static NDArray SampleNorm<T>(OpDef<T> op, T attrs, NDArray x, NDArray gamma, NDArray beta)
        where T : SampleNormAttrs
    {
        var outputs = op.Invoke(attrs, x, gamma, beta);
        if (!Autograd.IsRecording)
        {
            // The saved statistics are needed only by the gradient.
            outputs[1].Dispose();
            outputs[2].Dispose();
        }
        return outputs[0];
    }
}
