using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// Group normalisation (MXNet 1.x's nn.GroupNorm, op GroupNorm) of (N, C, spatial...) input: the channels are
/// split into <see cref="NumGroups"/> groups and each sample's group is normalised over its channels and
/// positions. As in MXNet 1.x, gamma and beta hold one value per group, shape (num_groups,), known at
/// construction.
/// </summary>
public class GroupNorm : SampleNormLayer
{
    public GroupNorm(int numGroups = 1, double epsilon = 1e-5, bool center = true, bool scale = true,
        Initializer? betaInitializer = null, Initializer? gammaInitializer = null, string? prefix = null,
        ParameterDict? @params = null)
        : base("GroupNorm", epsilon, center, scale, new Shape(CheckGroups(numGroups)), betaInitializer,
            gammaInitializer, prefix, @params) => NumGroups = numGroups;

    public int NumGroups { get; }

    public override NDArray Forward(NDArray x)
    {
        if (x.Rank < 2 || x.Shape[1] % NumGroups != 0)
            throw new ArgumentException(
                $"GroupNorm '{Name}': input {x.Shape} needs (batch, channels, ...) with a channel count divisible " +
                $"by num_groups {NumGroups}; choose numGroups dividing {(x.Rank < 2 ? "the channels" : x.Shape[1])}.");
        var (g, b) = Affine(x, new Shape(NumGroups), "one value per group");
        return Nd.GroupNorm(x, g, b, NumGroups, Epsilon);
    }

    public override string ToString() =>
        $"GroupNorm(num_groups={NumGroups}, eps={Epsilon}, center={Ops.Format.Bool(Center)}, " +
        $"scale={Ops.Format.Bool(Scale)})";

    private static int CheckGroups(int numGroups) => numGroups > 0 ? numGroups
        : throw new ArgumentOutOfRangeException(nameof(numGroups),
            $"GroupNorm: numGroups must be positive, got {numGroups}.");
}
