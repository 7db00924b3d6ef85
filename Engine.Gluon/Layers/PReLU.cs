using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// Parametric ReLU (MXNet's nn.PReLU, op LeakyReLU act_type='prelu'): x for x &gt; 0, alpha x otherwise, with a
/// learned parameter <c>alpha</c> of shape (in_channels,) (one slope per channel on axis 1, or one for all with
/// the default inChannels 1), initialised to 0.25.
/// </summary>
public class PReLU : HybridBlock
{
    private readonly Parameter alpha;

    public PReLU(Initializer? alphaInitializer = null, int inChannels = 1, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        if (inChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels),
                $"PReLU: inChannels must be positive (1 shares one slope), got {inChannels}.");
        alpha = Params.Get("alpha", new Shape(inChannels), alphaInitializer ?? new Constant(0.25));
    }

    public Parameter Alpha => alpha;

    public override NDArray Forward(NDArray x)
    {
        int n = alpha.Shape[0];
        if (n != 1 && (x.Rank < 2 || x.Shape[1] != n))
            throw new ArgumentException(
                $"PReLU '{Name}': alpha has {n} values (inChannels) but input {x.Shape} has " +
                $"{(x.Rank < 2 ? "no channel axis" : x.Shape[1] + " channels on axis 1")}; create the layer with " +
                "inChannels equal to the channel count, or 1.");
        return Nd.PRelu(x, alpha.Data(x.Device));
    }

    public override string ToString() => $"PReLU({alpha.Shape[0]})";
}
