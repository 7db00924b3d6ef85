namespace Engine.Gluon.Optimizers;

/// <summary>
/// RMSProp, MXNet's <c>RMSProp</c>. With g = clip(RescaleGrad * grad + wd * w):
/// <code>
/// centered = false (Tieleman and Hinton; kernel rmsprop_update):
///   n = (1 - gamma1) * g^2 + gamma1 * n
///   w = w - lr * g / sqrt(n + epsilon)
/// centered = true (Graves 2013; kernel rmspropalex_update):
///   n     = (1 - gamma1) * g^2 + gamma1 * n
///   gbar  = (1 - gamma1) * g + gamma1 * gbar
///   delta = gamma2 * delta - lr * g / sqrt(n - gbar^2 + epsilon)
///   w     = w + delta
/// </code>
/// Epsilon sits inside the square root (unlike PyTorch's RMSprop). With ClipWeights set, the new weight is clipped
/// to [-ClipWeights, ClipWeights].
/// </summary>
public sealed class RMSProp : Optimizer
{
    private static readonly string[] PlainState = ["n"];
    private static readonly string[] CenteredState = ["n", "g", "delta"];

    /// <param name="learningRate">Default 0.001 (with a scheduler and no explicit rate, the scheduler's).</param>
    /// <param name="gamma1">Decay of the moving averages, in [0, 1).</param>
    /// <param name="gamma2">Momentum of the centered variant, in [0, 1].</param>
    /// <param name="epsilon">Added under the square root.</param>
    /// <param name="centered">Graves's centered variant (three states) instead of Tieleman and Hinton's (one).</param>
    /// <param name="clipWeights">Clip the updated weights to [-clipWeights, clipWeights]; null: no clipping.</param>
    /// <param name="wd">Weight decay (added to the gradient).</param>
    public RMSProp(double? learningRate = null, double gamma1 = 0.9, double gamma2 = 0.9, double epsilon = 1e-8,
        bool centered = false, double? clipWeights = null, double wd = 0)
        : base(learningRate, 0.001, wd)
    {
        CheckRange(gamma1, nameof(gamma1), 0, 1, highInclusive: false);
        CheckRange(gamma2, nameof(gamma2), 0, 1, highInclusive: true);
        CheckRange(epsilon, nameof(epsilon), 0, double.MaxValue, highInclusive: true);
        if (clipWeights is double c && (!double.IsFinite(c) || c <= 0))
            throw new ArgumentOutOfRangeException(nameof(clipWeights), clipWeights,
                $"RMSProp: clipWeights must be a finite number > 0, got {c}; use null for no clipping.");
        Gamma1 = gamma1;
        Gamma2 = gamma2;
        Epsilon = epsilon;
        Centered = centered;
        ClipWeights = clipWeights;
    }

    public override string Name => "rmsprop";

    public double Gamma1 { get; }

    public double Gamma2 { get; }

    public double Epsilon { get; }

    public bool Centered { get; }

    public double? ClipWeights { get; }

    public override IReadOnlyList<string> StateNames => Centered ? CenteredState : PlainState;

    protected override void UpdateCore(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state, double lr,
        double wd, int t)
    {
        var g = Clip(grad * RescaleGrad + wd * weight);
        var n = state[0];
        n.Assign((1 - Gamma1) * Nd.Square(g) + Gamma1 * n);
        NDArray updated;
        if (!Centered)
        {
            updated = weight - lr * g / Nd.Sqrt(n + Epsilon);
        }
        else
        {
            NDArray mean = state[1], delta = state[2];
            mean.Assign((1 - Gamma1) * g + Gamma1 * mean);
            delta.Assign(Gamma2 * delta - lr * g / Nd.Sqrt(n - Nd.Square(mean) + Epsilon));
            updated = weight + delta;
        }
        if (ClipWeights is double c) updated = Nd.Clip(updated, -c, c);
        weight.Assign(updated);
    }
}
