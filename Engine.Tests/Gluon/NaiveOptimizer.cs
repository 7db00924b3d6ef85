namespace Engine.Tests.Gluon;

/// <summary>
/// The living definition of the optimizers: MXNet's update kernels (src/operator/optimizer_op-inl.h,
/// contrib/adamw-inl.h) and its Optimizer bookkeeping (per-index counts, num_update, lr and wd multipliers), written
/// out element by element in double precision.
/// </summary>
internal sealed class NaiveOptimizer
{
    private readonly Dictionary<int, double[][]> states = new();
    private readonly Dictionary<int, int> counts = new();
    private int numUpdate;

    public required string Kind { get; init; }
    public double Lr { get; init; }
    public double Wd { get; init; }
    public double Rescale { get; init; } = 1;
    public double? Clip { get; init; }
    public double Momentum { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public bool CorrectBias { get; init; } = true;
    public double Gamma1 { get; init; } = 0.9;
    public double Gamma2 { get; init; } = 0.9;
    public bool Centered { get; init; }
    public double? ClipWeights { get; init; }

    /// <summary>The learning rate as a function of num_update, replacing Lr when set.</summary>
    public Func<int, double>? Schedule { get; init; }

    public void Update(int index, double[] w, double[] grad, double lrMult = 1, double wdMult = 1)
    {
        int t = counts[index] = counts.GetValueOrDefault(index) + 1;
        numUpdate = Math.Max(numUpdate, t);
        double lr = (Schedule?.Invoke(numUpdate) ?? Lr) * lrMult;
        double wd = Wd * wdMult;
        if (!states.TryGetValue(index, out var s))
            states[index] = s = [new double[w.Length], new double[w.Length], new double[w.Length]];
        for (int i = 0; i < w.Length; i++)
        {
            double rescaled = Rescale * grad[i];
            switch (Kind)
            {
                case "sgd":
                    if (Momentum == 0)
                    {
                        w[i] = (1 - lr * wd) * w[i] - lr * C(rescaled);
                    }
                    else
                    {
                        s[0][i] = Momentum * s[0][i] - lr * wd * w[i] - lr * C(rescaled);
                        w[i] += s[0][i];
                    }
                    break;
                case "nag":
                {
                    double g = C(rescaled) + wd * w[i];
                    if (Momentum == 0)
                    {
                        w[i] -= lr * g;
                        break;
                    }
                    // nag_mom_update's literal form.
                    double m = Momentum * s[0][i];
                    w[i] = w[i] - m + (Momentum + 1) * (m - lr * g);
                    s[0][i] = m - lr * g;
                    break;
                }
                case "adam":
                {
                    double g = C(rescaled + wd * w[i]);
                    s[0][i] = Beta1 * s[0][i] + (1 - Beta1) * g;
                    s[1][i] = Beta2 * s[1][i] + (1 - Beta2) * g * g;
                    double lrT = lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
                    w[i] -= lrT * s[0][i] / (Math.Sqrt(s[1][i]) + Epsilon);
                    break;
                }
                case "adamw":
                {
                    double g = C(rescaled);
                    s[0][i] = Beta1 * s[0][i] + (1 - Beta1) * g;
                    s[1][i] = Beta2 * s[1][i] + (1 - Beta2) * g * g;
                    double eta = CorrectBias ? lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t)) : lr;
                    w[i] -= eta * (s[0][i] / (Math.Sqrt(s[1][i]) + Epsilon) + wd * w[i]);
                    break;
                }
                case "rmsprop":
                {
                    double g = C(rescaled + wd * w[i]);
                    s[0][i] = (1 - Gamma1) * g * g + Gamma1 * s[0][i];
                    double next;
                    if (!Centered)
                    {
                        next = w[i] - lr * g / Math.Sqrt(s[0][i] + Epsilon);
                    }
                    else
                    {
                        s[1][i] = (1 - Gamma1) * g + Gamma1 * s[1][i];
                        s[2][i] = Gamma2 * s[2][i] - lr * g / Math.Sqrt(s[0][i] - s[1][i] * s[1][i] + Epsilon);
                        next = w[i] + s[2][i];
                    }
                    w[i] = ClipWeights is double cw ? Math.Clamp(next, -cw, cw) : next;
                    break;
                }
                default:
                    throw new ArgumentException($"unknown optimizer kind {Kind}");
            }
        }
    }

    private double C(double g) => Clip is double c ? Math.Clamp(g, -c, c) : g;
}
