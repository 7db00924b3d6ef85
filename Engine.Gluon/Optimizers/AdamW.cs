namespace Engine.Gluon.Optimizers;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter), MXNet's <c>AdamW</c> (kernel <c>adamw_update</c>).
/// At the t-th update of an index:
/// <code>
/// g    = clip(RescaleGrad * grad)                   // no weight decay in the gradient
/// mean = beta1 * mean + (1 - beta1) * g
/// var  = beta2 * var + (1 - beta2) * g^2
/// lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)      // lr_t = lr when correctBias is false
/// w    = w - lr_t * (mean / (sqrt(var) + epsilon) + wd * w)
/// </code>
/// The decay is scaled by the bias-corrected rate lr_t, as MXNet does; PyTorch's AdamW decays by lr * wd * w
/// instead, so the two agree only when wd is 0.
/// </summary>
public sealed class AdamW : Optimizer
{
    private static readonly string[] MomentState = ["mean", "var"];

    /// <param name="learningRate">Default 0.001 (with a scheduler and no explicit rate, the scheduler's).</param>
    /// <param name="beta1">Decay of the first moment estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to sqrt(var); MXNet's AdamW default is 1e-6 (Adam's is 1e-8).</param>
    /// <param name="wd">Decoupled weight decay.</param>
    /// <param name="correctBias">Apply Adam's bias correction to the rate (false as in BERT's TF code).</param>
    public AdamW(double? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-6,
        double wd = 0, bool correctBias = true)
        : base(learningRate, 0.001, wd)
    {
        CheckRange(beta1, nameof(beta1), 0, 1, highInclusive: false);
        CheckRange(beta2, nameof(beta2), 0, 1, highInclusive: false);
        CheckRange(epsilon, nameof(epsilon), 0, double.MaxValue, highInclusive: true);
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        CorrectBias = correctBias;
    }

    public override string Name => "adamw";

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    public bool CorrectBias { get; }

    public override IReadOnlyList<string> StateNames => MomentState;

    protected override void UpdateCore(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state, double lr,
        double wd, int t)
    {
        var g = Clip(grad * RescaleGrad);
        NDArray mean = state[0], variance = state[1];
        mean.Assign(Beta1 * mean + (1 - Beta1) * g);
        variance.Assign(Beta2 * variance + (1 - Beta2) * Nd.Square(g));
        double lrT = CorrectBias ? lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t)) : lr;
        weight.Assign(weight - lrT * (mean / (Nd.Sqrt(variance) + Epsilon) + wd * weight));
    }
}
