namespace Engine.Gluon.Optimizers;

/// <summary>
/// Adam, MXNet's <c>Adam</c> (kernel <c>adam_update</c>). At the t-th update of an index:
/// <code>
/// g    = clip(RescaleGrad * grad + wd * w)          // weight decay is added before clipping, as in MXNet
/// mean = beta1 * mean + (1 - beta1) * g
/// var  = beta2 * var + (1 - beta2) * g^2
/// lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
/// w    = w - lr_t * mean / (sqrt(var) + epsilon)
/// </code>
/// This is PyTorch's Adam (weight_decay included) up to where epsilon sits: PyTorch adds it to
/// sqrt(var) / sqrt(1 - beta2^t), MXNet to sqrt(var).
/// </summary>
public sealed class Adam : Optimizer
{
    private static readonly string[] MomentState = ["mean", "var"];

    /// <param name="learningRate">Default 0.001 (with a scheduler and no explicit rate, the scheduler's).</param>
    /// <param name="beta1">Decay of the first moment estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to sqrt(var) to avoid dividing by zero.</param>
    /// <param name="wd">Weight decay (L2, coupled: added to the gradient).</param>
    public Adam(double? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double wd = 0)
        : base(learningRate, 0.001, wd)
    {
        CheckRange(beta1, nameof(beta1), 0, 1, highInclusive: false);
        CheckRange(beta2, nameof(beta2), 0, 1, highInclusive: false);
        CheckRange(epsilon, nameof(epsilon), 0, double.MaxValue, highInclusive: true);
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    public override string Name => "adam";

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    public override IReadOnlyList<string> StateNames => MomentState;

    protected override void UpdateCore(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state, double lr,
        double wd, int t)
    {
        // MXNet's Adam folds the bias correction into the learning rate it passes to adam_update.
        double lrT = lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
        Nd.AdamUpdate(weight, grad, state[0], state[1], lrT, Beta1, Beta2, Epsilon, wd, RescaleGrad,
            ClipGradient ?? -1);
    }
}
