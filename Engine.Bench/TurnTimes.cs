namespace Engine.Bench;

/// <summary>
/// One side's times in a case run in turns (the vs-torch suite): every sample's per-call ms, kept, and the calls and
/// seconds behind them, from which warm-up ends (<see cref="Warm"/>) and the calls per sample are chosen
/// (<see cref="CallsPerSample"/>).
/// </summary>
public sealed class TurnTimes
{
    private readonly List<double> samples = [];
    private bool sorted = true;

    public int Count => samples.Count;

    /// <summary>Calls run, all samples together.</summary>
    public long Calls { get; private set; }

    /// <summary>Seconds the calls took, all samples together (not the other side's turns).</summary>
    public double Seconds { get; private set; }

    public double FastestMs => Sorted[0];

    public double MedianMs => (Sorted[(Count - 1) / 2] + Sorted[Count / 2]) / 2;

    public double Q1Ms => Sorted[(Count - 1) / 4];

    public double Q3Ms => Sorted[3 * (Count - 1) / 4];

    /// <summary>
    /// Warm as <see cref="BenchContext.Measure"/> has it: at least <see cref="BenchContext.WarmupCalls"/> calls and
    /// <see cref="BenchContext.WarmupSeconds"/>, and <see cref="BenchContext.SettleCalls"/> calls or
    /// <see cref="BenchContext.SettleSeconds"/>, counting this side's own time only.
    /// </summary>
    public bool Warm => Calls >= BenchContext.WarmupCalls && Seconds >= BenchContext.WarmupSeconds &&
        (Calls >= BenchContext.SettleCalls || Seconds >= BenchContext.SettleSeconds);

    /// <summary>Adds samples of <paramref name="callsPerSample"/> calls each, given as per-call ms.</summary>
    public void Add(IEnumerable<double> perCallMs, int callsPerSample)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(callsPerSample, 1);
        foreach (double ms in perCallMs)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(ms);
            samples.Add(ms);
            Calls += callsPerSample;
            Seconds += ms * callsPerSample / 1000;
        }
        sorted = false;
    }

    /// <summary>
    /// Calls per sample so one sample lasts at least <paramref name="sampleMs"/> at the fastest call so far: one for
    /// calls that long or longer, many for tiny ones, whose single calls the clock cannot time well.
    /// </summary>
    public int CallsPerSample(double sampleMs) =>
        (int)Math.Clamp(Math.Ceiling(sampleMs / Math.Max(FastestMs, 1e-6)), 1, 1_000_000);

    private List<double> Sorted
    {
        get
        {
            if (Count == 0) throw new InvalidOperationException("TurnTimes: no samples yet.");
            if (!sorted) samples.Sort();
            sorted = true;
            return samples;
        }
    }
}
