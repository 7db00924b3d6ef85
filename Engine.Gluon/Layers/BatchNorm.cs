using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// Batch normalisation over the channel axis (MXNet's nn.BatchNorm). While training it normalises with batch
/// statistics and moves the running mean and variance (running = running*momentum + batch*(1 - momentum));
/// otherwise it uses them. running_mean and running_var are parameters with grad_req null.
/// </summary>
public class BatchNorm : HybridBlock
{
    private readonly Parameter gamma, beta, runningMean, runningVar;

    public BatchNorm(int axis = 1, double momentum = 0.9, double epsilon = 1e-5, bool center = true,
        bool scale = true, bool useGlobalStats = false, Initializer? betaInitializer = null,
        Initializer? gammaInitializer = null, Initializer? runningMeanInitializer = null,
        Initializer? runningVarianceInitializer = null, int inChannels = 0, string? prefix = null,
        ParameterDict? @params = null) : base(prefix, @params)
    {
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum),
                $"BatchNorm: momentum must be in [0, 1], got {momentum}.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon),
                $"BatchNorm: epsilon must be positive, got {epsilon}.");
        Axis = axis;
        Momentum = momentum;
        Epsilon = epsilon;
        Scale = scale;
        UseGlobalStats = useGlobalStats;
        var shape = new Shape(inChannels);
        gamma = Params.Get("gamma", shape, gammaInitializer ?? new One(), gradReq: scale ? GradReq.Write : GradReq.Null,
            allowDeferredInit: true, differentiable: scale);
        beta = Params.Get("beta", shape, betaInitializer ?? new Zero(), gradReq: center ? GradReq.Write : GradReq.Null,
            allowDeferredInit: true, differentiable: center);
        runningMean = Params.Get("running_mean", shape, runningMeanInitializer ?? new Zero(), gradReq: GradReq.Null,
            allowDeferredInit: true, differentiable: false);
        runningVar = Params.Get("running_var", shape, runningVarianceInitializer ?? new One(), gradReq: GradReq.Null,
            allowDeferredInit: true, differentiable: false);
    }

    public int Axis { get; }

    public double Momentum { get; }

    public double Epsilon { get; }

    public bool Scale { get; }

    public bool UseGlobalStats { get; }

    public Parameter Gamma => gamma;

    public Parameter Beta => beta;

    public Parameter RunningMean => runningMean;

    public Parameter RunningVar => runningVar;

    public override NDArray Forward(NDArray x)
    {
        int c = x.Shape[x.Shape.NormalizeAxis(Axis, $"BatchNorm '{Name}'")];
        if (gamma.Shape[0] == 0 || gamma.IsDeferred)
        {
            foreach (var p in new[] { gamma, beta, runningMean, runningVar }) p.FinishDeferredInit(new Shape(c));
        }
        var d = x.Device;
        return Nd.BatchNorm(x, gamma.Data(d), beta.Data(d), runningMean.Data(d), runningVar.Data(d), Epsilon, Momentum,
            fixGamma: !Scale, UseGlobalStats, Axis);
    }

    /// <summary>Keeps float32 statistics when the rest is cast to float16, as MXNet does.</summary>
    public override void Cast(DType dtype) => base.Cast(dtype == DType.Float16 ? DType.Float32 : dtype);

    public override string ToString()
    {
        string inCh = gamma.Shape[0] == 0 ? "None" : gamma.Shape[0].ToString();
        return $"BatchNorm(axis={Axis}, eps={Epsilon}, momentum={Momentum}, fix_gamma={Ops.Format.Bool(!Scale)}, " +
               $"use_global_stats={Ops.Format.Bool(UseGlobalStats)}, in_channels={inCh})";
    }
}
