namespace Engine.Gluon.Optimizers;

/// <summary>
/// Stochastic gradient descent with momentum and weight decay, MXNet's <c>SGD</c> (kernels <c>sgd_update</c> and
/// <c>sgd_mom_update</c>). With g = clip(RescaleGrad * grad):
/// <code>
/// momentum == 0:  w = (1 - lr * wd) * w - lr * g
/// momentum &gt; 0:   mom = momentum * mom - lr * wd * w - lr * g;  w = w + mom
/// </code>
/// Weight decay is not clipped. The momentum holds -lr times PyTorch's buffer, so a changing learning rate acts at
/// the step it changes (MXNet's form, not PyTorch's).
/// </summary>
public sealed class SGD : Optimizer
{
    private static readonly string[] MomentumState = ["mom"];

    /// <param name="learningRate">Default 0.01 (with a scheduler and no explicit rate, the scheduler's).</param>
    /// <param name="momentum">0 for plain SGD (no state kept).</param>
    /// <param name="wd">Weight decay.</param>
    public SGD(double? learningRate = null, double momentum = 0, double wd = 0)
        : base(learningRate, 0.01, wd)
    {
        CheckRange(momentum, nameof(momentum), 0, 1, highInclusive: true);
        Momentum = momentum;
    }

    public override string Name => "sgd";

    public double Momentum { get; }

    public override IReadOnlyList<string> StateNames => Momentum > 0 ? MomentumState : [];

    protected override void UpdateCore(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state, double lr,
        double wd, int t)
    {
        double clip = ClipGradient ?? -1;
        if (state.Count == 0) Nd.SgdUpdate(weight, grad, lr, wd, RescaleGrad, clip);
        else Nd.SgdMomUpdate(weight, grad, state[0], lr, Momentum, wd, RescaleGrad, clip);
    }
}
