namespace Engine.Gluon.Metrics;

/// <summary>How F1, MCC and PearsonCorrelation combine batches (MXNet's average='macro' / 'micro').</summary>
public enum MetricAverage
{
    /// <summary>The metric of each Update call, averaged over the calls (MXNet's default, 'macro').</summary>
    Macro,

    /// <summary>The metric of everything seen since Reset, from accumulated counts or moments ('micro').</summary>
    Micro,
}
