namespace Engine.Gluon.Optimizers;

/// <summary>
/// Nesterov accelerated gradient, MXNet's <c>NAG</c> (kernel <c>nag_mom_update</c>). With
/// g = clip(RescaleGrad * grad) + wd * w:
/// <code>
/// mom = momentum * mom - lr * g
/// w   = w + momentum * mom - lr * g
/// </code>
/// With momentum 0 it is plain SGD.
/// </summary>
public sealed class NAG : Optimizer
{
    private static readonly string[] MomentumState = ["mom"];

    /// <param name="learningRate">Default 0.01 (with a scheduler and no explicit rate, the scheduler's).</param>
    /// <param name="momentum">0 for plain SGD (no state kept).</param>
    /// <param name="wd">Weight decay.</param>
    public NAG(double? learningRate = null, double momentum = 0, double wd = 0)
        : base(learningRate, 0.01, wd)
    {
        CheckRange(momentum, nameof(momentum), 0, 1, highInclusive: true);
        Momentum = momentum;
    }

    public override string Name => "nag";

    public double Momentum { get; }

    public override IReadOnlyList<string> StateNames => Momentum > 0 ? MomentumState : [];

    protected override void UpdateCore(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state, double lr,
        double wd, int t)
    {
        var g = Clip(grad * RescaleGrad) + wd * weight;
        if (state.Count == 0)
        {
            weight.Assign(weight - lr * g);
            return;
        }
        var mom = state[0];
        mom.Assign(Momentum * mom - lr * g);
        weight.Assign(weight + Momentum * mom - lr * g);
    }
}
