using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// Instance normalisation (MXNet's nn.InstanceNorm, op InstanceNorm): each sample's channel is normalised over its
/// spatial positions. As in MXNet, <c>scale</c> defaults to false (gamma stays ones with grad_req null), the layer's
/// epsilon is 1e-5 (the operator's own default is 1e-3), and an <see cref="Axis"/> other than 1 is swapped
/// with axis 1 around the operator.
/// </summary>
public class InstanceNorm : SampleNormLayer
{
    public InstanceNorm(int axis = 1, double epsilon = 1e-5, bool center = true, bool scale = false,
        Initializer? betaInitializer = null, Initializer? gammaInitializer = null, int inChannels = 0,
        string? prefix = null, ParameterDict? @params = null)
        : base("InstanceNorm", epsilon, center, scale, new Shape(LayerNorm.CheckChannels("InstanceNorm", inChannels)),
            betaInitializer, gammaInitializer, prefix, @params) => Axis = axis;

    public int Axis { get; }

    public override NDArray Forward(NDArray x)
    {
        if (x.Rank < 3)
            throw new ArgumentException(
                $"InstanceNorm '{Name}': input {x.Shape} needs at least 3 axes (batch, channels, spatial...); " +
                "reshape it to add a spatial axis of size 1.");
        int a = x.Shape.NormalizeAxis(Axis, $"InstanceNorm '{Name}'");
        if (a == 0)
            throw new ArgumentException(
                $"InstanceNorm '{Name}': axis {Axis} is the batch axis of input {x.Shape}; use the channel axis.");
        var (g, b) = Affine(x, new Shape(x.Shape[a]), $"the size of axis {Axis}");
        if (a == 1) return Nd.InstanceNorm(x, g, b, Epsilon);
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        (perm[1], perm[a]) = (perm[a], perm[1]);
        return Nd.InstanceNorm(x.Transpose(perm), g, b, Epsilon).Transpose(perm);
    }

    public override string ToString() =>
        $"InstanceNorm(eps={Epsilon}, axis={Axis}, center={Ops.Format.Bool(Center)}, " +
        $"scale={Ops.Format.Bool(Scale)}, in_channels={(Gamma.Shape[0] == 0 ? "None" : Gamma.Shape[0])})";
}
