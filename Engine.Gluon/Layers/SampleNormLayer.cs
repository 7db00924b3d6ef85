using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// What LayerNorm, InstanceNorm and GroupNorm share: gamma and beta (MXNet's names, ones and zeros), grad_req null
/// for the one switched off by <c>scale</c> or <c>center</c>, the argument checks and the deferred shape.
/// </summary>
public abstract class SampleNormLayer : HybridBlock
{
    private readonly Parameter gamma, beta;

    private protected SampleNormLayer(string layer, double epsilon, bool center, bool scale, Shape shape,
        Initializer? betaInitializer, Initializer? gammaInitializer, string? prefix, ParameterDict? @params)
        : base(prefix, @params)
    {
        if (!(epsilon > 0) || !double.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon),
                $"{layer}: epsilon must be a positive finite number, got {epsilon}; 1e-5 is usual.");
        Epsilon = epsilon;
        Center = center;
        Scale = scale;
        gamma = Params.Get("gamma", shape, gammaInitializer ?? new One(), gradReq: scale ? GradReq.Write : GradReq.Null,
            allowDeferredInit: true, differentiable: scale);
        beta = Params.Get("beta", shape, betaInitializer ?? new Zero(), gradReq: center ? GradReq.Write : GradReq.Null,
            allowDeferredInit: true, differentiable: center);
    }

    public double Epsilon { get; }

    public bool Center { get; }

    public bool Scale { get; }

    public Parameter Gamma => gamma;

    public Parameter Beta => beta;

    /// <summary>gamma and beta on x's device, their shape completed from <paramref name="needed"/> on the first
    /// call; a shape fixed at construction that differs is an error naming the layer.</summary>
    private protected (NDArray Gamma, NDArray Beta) Affine(NDArray x, Shape needed, string what)
    {
        if (gamma.Shape.Dims.Contains(0) || gamma.IsDeferred)
        {
            if (gamma.Shape.Rank == needed.Rank && !gamma.Shape.Dims.Contains(0) && gamma.Shape != needed)
                throw Mismatch(x, needed, what);
            gamma.FinishDeferredInit(needed);
            beta.FinishDeferredInit(needed);
        }
        else if (gamma.Shape != needed)
        {
            throw Mismatch(x, needed, what);
        }
        return (gamma.Data(x.Device), beta.Data(x.Device));
    }

    private ArgumentException Mismatch(NDArray x, Shape needed, string what) =>
        new($"{GetType().Name} '{Name}': input {x.Shape} needs gamma and beta of shape {needed} ({what}), but the " +
            $"layer's are {gamma.Shape}; create the layer with inChannels: {needed[0]}, or 0 to infer it.");
}

/// <summary>
/// Layer normalisation (MXNet's nn.LayerNorm, op LayerNorm): each sample is normalised over <see cref="Axis"/>
/// with its own mean and variance, then scaled by gamma and shifted by beta, both of shape (in_channels,), the
/// size of that axis (inferred on the first call when inChannels is 0).
/// </summary>
public class LayerNorm : SampleNormLayer
{
    public LayerNorm(int axis = -1, double epsilon = 1e-5, bool center = true, bool scale = true,
        Initializer? betaInitializer = null, Initializer? gammaInitializer = null, int inChannels = 0,
        string? prefix = null, ParameterDict? @params = null)
        : base("LayerNorm", epsilon, center, scale, new Shape(CheckChannels("LayerNorm", inChannels)),
            betaInitializer, gammaInitializer, prefix, @params) => Axis = axis;

    public int Axis { get; }

    public override NDArray Forward(NDArray x)
    {
        int a = x.Shape.NormalizeAxis(Axis, $"LayerNorm '{Name}'");
        var (g, b) = Affine(x, new Shape(x.Shape[a]), $"the size of axis {Axis}");
        return Nd.LayerNorm(x, g, b, Axis, Epsilon);
    }

    public override string ToString() =>
        $"LayerNorm(eps={Epsilon}, axis={Axis}, center={Ops.Format.Bool(Center)}, scale={Ops.Format.Bool(Scale)}, " +
        $"in_channels={(Gamma.Shape[0] == 0 ? "None" : Gamma.Shape[0])})";

    internal static int CheckChannels(string layer, int inChannels) => inChannels >= 0 ? inChannels
        : throw new ArgumentOutOfRangeException(nameof(inChannels),
            $"{layer}: inChannels must be >= 0 (0 infers it from the first input), got {inChannels}.");
}
