namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Softmax, log-softmax and softmax cross-entropy written the obvious way in double precision over
/// (outer, axis, inner) data: the living definition the CPU kernels are checked against.
/// </summary>
public static class SoftmaxReference
{
    private static int Index(long o, int a, long i, int axis, long inner) => (int)((o * axis + a) * inner + i);

    /// <summary>softmax(x / t), or log_softmax(x / t) when <paramref name="log"/>.</summary>
    public static double[] Forward(double[] x, long outer, int axis, long inner, double temperature, bool log)
    {
        var y = new double[x.Length];
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity;
                for (int a = 0; a < axis; a++) max = Math.Max(max, x[Index(o, a, i, axis, inner)] / temperature);
                double sum = 0;
                for (int a = 0; a < axis; a++) sum += Math.Exp(x[Index(o, a, i, axis, inner)] / temperature - max);
                for (int a = 0; a < axis; a++)
                {
                    int k = Index(o, a, i, axis, inner);
                    double z = x[k] / temperature - max;
                    y[k] = log ? z - Math.Log(sum) : Math.Exp(z) / sum;
                }
            }
        return y;
    }

    /// <summary>Gradient of softmax (y the softmax output) or log-softmax (y the log-softmax output).</summary>
    public static double[] Backward(double[] y, double[] dy, long outer, int axis, long inner, double temperature,
        bool log)
    {
        var dx = new double[y.Length];
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                double s = 0;
                for (int a = 0; a < axis; a++)
                {
                    int k = Index(o, a, i, axis, inner);
                    s += log ? dy[k] : dy[k] * y[k];
                }
                for (int a = 0; a < axis; a++)
                {
                    int k = Index(o, a, i, axis, inner);
                    dx[k] = (log ? dy[k] - Math.Exp(y[k]) * s : y[k] * (dy[k] - s)) / temperature;
                }
            }
        return dx;
    }

    /// <summary>Per-sample -log_softmax(x)[label].</summary>
    public static double[] CrossEntropy(double[] logits, long[] labels, int batch, int classes)
    {
        var logp = Forward(logits, batch, classes, 1, 1, log: true);
        var loss = new double[batch];
        for (int b = 0; b < batch; b++) loss[b] = -logp[b * classes + labels[b]];
        return loss;
    }

    /// <summary>(softmax(x) - onehot(label)) * dloss.</summary>
    public static double[] CrossEntropyBackward(double[] logits, long[] labels, double[] dloss, int batch,
        int classes)
    {
        var p = Forward(logits, batch, classes, 1, 1, log: false);
        var dx = new double[p.Length];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < classes; j++)
                dx[b * classes + j] = (p[b * classes + j] - (j == labels[b] ? 1 : 0)) * dloss[b];
        return dx;
    }
}
