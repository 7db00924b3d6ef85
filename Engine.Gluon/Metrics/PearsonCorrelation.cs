namespace Engine.Gluon.Metrics;

/// <summary>
/// Pearson's correlation of predictions and labels (flattened), MXNet's <c>PearsonCorrelation(average='macro')</c>,
/// named <c>pearsonr</c>. Macro averages the correlation of each Update call (NaN for a batch whose labels or
/// predictions are constant, as NumPy's corrcoef); Micro is the correlation of everything seen, from running means,
/// sums of squares and co-moments updated batch by batch (Welford's method, as MXNet).
/// </summary>
public sealed class PearsonCorrelation : EvalMetric
{
    private long count;
    private double meanLabel, meanPred, sseLabel, ssePred, coMoment;

    public PearsonCorrelation(string name = "pearsonr", MetricAverage average = MetricAverage.Macro) : base(name)
    {
        if (!Enum.IsDefined(average))
            throw new ArgumentOutOfRangeException(nameof(average),
                $"PearsonCorrelation: average {(int)average} is neither Macro nor Micro.");
        Average = average;
    }

    public MetricAverage Average { get; }

    protected override double Value
    {
        get
        {
            if (NumInstances == 0) return double.NaN;
            if (Average == MetricAverage.Macro) return SumMetric / NumInstances;
            return coMoment / Math.Sqrt(ssePred * sseLabel);
        }
    }

    protected override void UpdatePair(NDArray label, NDArray pred)
    {
        var l = Values(label);
        var p = Values(pred);
        CheckCounts(l.Length, label.Shape, p.Length, $"predictions {pred.Shape}");
        NumInstances += 1;
        if (Average == MetricAverage.Macro)
        {
            SumMetric += Correlation(l, p);
            return;
        }
        // Batch Welford: the mean moves by sum(x - old mean) / n, the sum of squares by sum((x - old)(x - new)),
        // and the co-moment by sum((label - new label mean)(pred - old pred mean)); all three are exact.
        count += l.Length;
        double newMeanLabel = meanLabel + l.Sum(x => x - meanLabel) / count;
        for (int k = 0; k < l.Length; k++)
        {
            sseLabel += (l[k] - meanLabel) * (l[k] - newMeanLabel);
            coMoment += (l[k] - newMeanLabel) * (p[k] - meanPred);
        }
        meanLabel = newMeanLabel;
        double newMeanPred = meanPred + p.Sum(x => x - meanPred) / count;
        for (int k = 0; k < p.Length; k++) ssePred += (p[k] - meanPred) * (p[k] - newMeanPred);
        meanPred = newMeanPred;
    }

    public override void Reset()
    {
        base.Reset();
        count = 0;
        meanLabel = meanPred = sseLabel = ssePred = coMoment = 0;
    }

    private static double Correlation(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int k = 0; k < x.Length; k++)
        {
            sxy += (x[k] - mx) * (y[k] - my);
            sxx += (x[k] - mx) * (x[k] - mx);
            syy += (y[k] - my) * (y[k] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
