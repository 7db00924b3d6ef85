namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Batch normalization written the obvious way in double precision: the living definition the CPU kernels are
/// checked against. Data is (outer, channels, inner), statistics per channel over outer * inner values.
/// </summary>
public static class NormalizationReference
{
    public sealed record TrainingResult(double[] Y, double[] Mean, double[] InvStd, double[] RunningMean,
        double[] RunningVar);

    public sealed record Gradients(double[] Dx, double[] Dgamma, double[] Dbeta);

    private static int Index(long o, int c, long i, int channels, long inner) => (int)((o * channels + c) * inner + i);

    public static (double[] Mean, double[] Var) Statistics(double[] x, long outer, int channels, long inner)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        long m = outer * inner;
        for (int c = 0; c < channels; c++)
        {
            if (m == 0) continue;
            double s = 0;
            for (long o = 0; o < outer; o++)
                for (long i = 0; i < inner; i++) s += x[Index(o, c, i, channels, inner)];
            mean[c] = s / m;
            double q = 0;
            for (long o = 0; o < outer; o++)
                for (long i = 0; i < inner; i++)
                {
                    double d = x[Index(o, c, i, channels, inner)] - mean[c];
                    q += d * d;
                }
            variance[c] = q / m;
        }
        return (mean, variance);
    }

    /// <summary>Training forward; momentum weighs the old running value (MXNet's convention).</summary>
    public static TrainingResult Training(double[] x, long outer, int channels, long inner, double[] gamma,
        double[] beta, double[] runningMean, double[] runningVar, double eps, double momentum, bool unbiased,
        bool fixGamma)
    {
        var (mean, variance) = Statistics(x, outer, channels, inner);
        long m = outer * inner;
        var invStd = new double[channels];
        var rm = (double[])runningMean.Clone();
        var rv = (double[])runningVar.Clone();
        for (int c = 0; c < channels; c++)
        {
            invStd[c] = 1 / Math.Sqrt(variance[c] + eps);
            if (m == 0) continue;
            double batchVar = unbiased ? variance[c] * m / (m - 1) : variance[c];
            rm[c] = momentum * rm[c] + (1 - momentum) * mean[c];
            rv[c] = momentum * rv[c] + (1 - momentum) * batchVar;
        }
        var y = Apply(x, outer, channels, inner, gamma, beta, mean, invStd, fixGamma);
        return new TrainingResult(y, mean, invStd, rm, rv);
    }

    public static double[] Inference(double[] x, long outer, int channels, long inner, double[] gamma,
        double[] beta, double[] runningMean, double[] runningVar, double eps, bool fixGamma)
    {
        var invStd = runningVar.Select(v => 1 / Math.Sqrt(v + eps)).ToArray();
        return Apply(x, outer, channels, inner, gamma, beta, runningMean, invStd, fixGamma);
    }

    private static double[] Apply(double[] x, long outer, int channels, long inner, double[] gamma, double[] beta,
        double[] mean, double[] invStd, bool fixGamma)
    {
        var y = new double[x.Length];
        for (long o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
                for (long i = 0; i < inner; i++)
                {
                    int k = Index(o, c, i, channels, inner);
                    double g = fixGamma ? 1 : gamma[c];
                    y[k] = g * (x[k] - mean[c]) * invStd[c] + beta[c];
                }
        return y;
    }

    /// <summary>Backward of the training forward, recomputing the statistics from x.</summary>
    public static Gradients Backward(double[] x, double[] dy, long outer, int channels, long inner,
        double[] gamma, double eps, bool fixGamma)
    {
        var (mean, variance) = Statistics(x, outer, channels, inner);
        var invStd = variance.Select(v => 1 / Math.Sqrt(v + eps)).ToArray();
        return Backward(x, dy, outer, channels, inner, gamma, mean, invStd, fixGamma);
    }

    /// <summary>Backward of the training forward given the statistics it saved, as the kernel receives them.
    /// With few values per channel the gradient is ill-conditioned in the saved mean (dx carries a factor
    /// eps / (var + eps) that cancels between terms), so a float kernel is compared with this overload fed its own
    /// saved statistics.</summary>
    public static Gradients Backward(double[] x, double[] dy, long outer, int channels, long inner,
        double[] gamma, double[] mean, double[] invStds, bool fixGamma)
    {
        long m = outer * inner;
        var dx = new double[x.Length];
        var dgamma = new double[channels];
        var dbeta = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double invStd = invStds[c];
            double sumDy = 0, sumDyXhat = 0;
            for (long o = 0; o < outer; o++)
                for (long i = 0; i < inner; i++)
                {
                    int k = Index(o, c, i, channels, inner);
                    sumDy += dy[k];
                    sumDyXhat += dy[k] * (x[k] - mean[c]) * invStd;
                }
            dbeta[c] = sumDy;
            dgamma[c] = fixGamma ? 0 : sumDyXhat;
            double g = fixGamma ? 1 : gamma[c];
            for (long o = 0; o < outer; o++)
                for (long i = 0; i < inner; i++)
                {
                    int k = Index(o, c, i, channels, inner);
                    double xhat = (x[k] - mean[c]) * invStd;
                    dx[k] = g * invStd / m * (m * dy[k] - sumDy - xhat * sumDyXhat);
                }
        }
        return new Gradients(dx, dgamma, dbeta);
    }
}
