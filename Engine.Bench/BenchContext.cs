using System.Diagnostics;
using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// How every case is timed (tools/bench/torch_baseline.py does the same, so medians compare like with like):
/// warm up for at least <see cref="WarmupCalls"/> calls and <see cref="WarmupSeconds"/>, and on until
/// <see cref="SettleCalls"/> calls or <see cref="SettleSeconds"/>; group calls so one sample lasts at least
/// <see cref="MinSampleMs"/>; take between <see cref="MinSamples"/> and Repeat samples, as many as fit in the time
/// budget; report the median time per call with the quartiles and the fastest sample. On a GPU the clock stops only
/// after the device has finished the work (<see cref="Synchronize"/>); on the simulated GPU, which only shows that a
/// suite runs there, warm-up is a single call.
/// </summary>
public sealed class BenchContext(BenchOptions options)
{
    /// <summary>Calls before timing starts: the JIT tiers up, caches, memory pools and thread pools warm.</summary>
    public const int WarmupCalls = 2;

    /// <summary>
    /// Tiered compilation reaches its final code only after a method has run many times (tier 0, then an
    /// instrumented tier, then optimised with the profile, compiled in the background after a quiet period): a
    /// LeNet training step takes 400 ms on its first call, 50 ms at the tenth and 28 ms from about the fiftieth,
    /// and the MLP step (2.5 ms) settles only after about a second and a half of calls. So warm-up lasts at least
    /// this long, and then on to <see cref="SettleCalls"/> calls unless <see cref="SettleSeconds"/> pass first.
    /// </summary>
    public const double WarmupSeconds = 1.5;

    /// <summary>Calls of warm-up for cases too slow to reach it in <see cref="WarmupSeconds"/>.</summary>
    public const int SettleCalls = 200;

    public const double SettleSeconds = 5;

    /// <summary>Timer and scheduler jitter is a few microseconds; 20 ms samples make it negligible.</summary>
    public const double MinSampleMs = 20;

    /// <summary>Fewest samples behind a median, however slow the case.</summary>
    public const int MinSamples = 5;

    public string Suite => options.Suite;

    public int Threads => options.Threads;

    /// <summary>Sampling time per case in seconds (--budget).</summary>
    public double BudgetSeconds => options.BudgetSeconds;

    /// <summary>
    /// The device the suites run on (--device). Suites that build their arrays with Nd get it as the default device
    /// (Program opens the scope); suites that call CPU kernels directly take the operators' path on other devices
    /// (<see cref="OnCpu"/>).
    /// </summary>
    public Device Device => options.Device;

    /// <summary>Whether the suites run on the CPU, where kernel suites call the CPU kernels directly.</summary>
    public bool OnCpu => Device.Kind == DeviceKind.Cpu;

    private bool Simulated => Device.Kind == DeviceKind.GpuSimulator;

    /// <summary>Why <see cref="Device"/> cannot be used (with the GPU support report), or null when it can.</summary>
    public string? DeviceProblem()
    {
        try
        {
            DeviceRuntime.For(Device);
            return null;
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            return e.Message;
        }
    }

    /// <summary>The line printed before the results: the device and, on the CPU, the kernels and threads.</summary>
    public string DescribeDevice() => OnCpu
        ? $"CPU kernels {CpuInstructionSet.Describe()}, {Threads} threads"
        : $"device {Device}" +
            (Simulated ? " (ILGPU's CPU accelerator: shows the suite runs; times mean nothing)" : "");

    /// <summary>Waits until the device has finished all queued work (nothing to wait for on the CPU).</summary>
    public void Synchronize() => DeviceRuntime.For(Device).Synchronize();

    /// <summary>A float32 array on <see cref="Device"/>, uniform in [-1, 1) from <paramref name="random"/>.</summary>
    public NDArray Uniform(Random random, params int[] shape)
    {
        var s = new Shape(shape);
        var values = new float[s.Size];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle() * 2 - 1;
        return Nd.Array(values, s, Device);
    }

    /// <summary>--profile: suites that run Nd operators also print a per-operator profile to stderr.</summary>
    public bool Profile => options.Profile;

    /// <summary>Whether the profile splits each operator by its input shapes (--profile-shapes).</summary>
    public bool ProfileShapes => options.ProfileShapes;

    /// <summary>
    /// Whether to run <paramref name="caseName"/>: it passes --filter (a case-insensitive substring). With --list,
    /// prints the name of every case that passes and runs none.
    /// </summary>
    public bool Wants(string caseName)
    {
        bool wanted = options.Filter is null || caseName.Contains(options.Filter, StringComparison.OrdinalIgnoreCase);
        if (wanted && options.ListOnly) Console.WriteLine(caseName);
        return wanted && !options.ListOnly;
    }

    /// <summary>
    /// Times several bodies that are compared with each other (one model run three ways) in turns: warm-up and
    /// every sample go round the bodies, so a burst of load on a shared machine slows all of them alike and their
    /// ratios stay meaningful. Each body still gets its own calls per sample, samples and median, as
    /// <see cref="Measure"/> would give.
    /// </summary>
    public IEnumerable<BenchResult> MeasureInTurns(IReadOnlyList<string> caseNames, IReadOnlyList<Action> bodies)
    {
        int n = bodies.Count;
        var fastest = Enumerable.Repeat(double.MaxValue, n).ToArray();
        long warmStart = Stopwatch.GetTimestamp();
        for (int i = 0; ; i++)
        {
            double elapsed = Stopwatch.GetElapsedTime(warmStart).TotalSeconds;
            bool warm = i >= WarmupCalls && elapsed >= WarmupSeconds * n;
            bool settled = i >= SettleCalls || elapsed >= SettleSeconds * n;
            if (warm && settled) break;
            for (int k = 0; k < n; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                bodies[k]();
                fastest[k] = Math.Min(fastest[k], Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        var calls = fastest.Select(f => (int)Math.Clamp(Math.Ceiling(MinSampleMs / Math.Max(f, 1e-6)), 1, 1_000_000))
            .ToArray();
        double round = Enumerable.Range(0, n).Sum(k => calls[k] * fastest[k]);
        int samples = (int)Math.Clamp(Math.Floor(options.BudgetSeconds * 1000 * n / round),
            Math.Min(MinSamples, options.Repeat), options.Repeat);
        var times = new double[n][];
        for (int k = 0; k < n; k++) times[k] = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < n; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int c = 0; c < calls[k]; c++) bodies[k]();
                times[k][s] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / calls[k];
            }
        }
        for (int k = 0; k < n; k++)
        {
            var t = times[k];
            Array.Sort(t);
            double median = (t[(samples - 1) / 2] + t[samples / 2]) / 2;
            yield return new BenchResult(Suite, caseNames[k], Threads, median, t[0], t[(samples - 1) / 4],
                t[3 * (samples - 1) / 4], samples, calls[k]);
        }
    }

    /// <summary>Times <paramref name="body"/>; <paramref name="flops"/> or <paramref name="bytes"/> per call, when
    /// given, turn the median into GFLOP/s or GB/s.</summary>
    public BenchResult Measure(string caseName, Action body, double flops = 0, double bytes = 0)
    {
        double fastest = double.MaxValue;
        long warmStart = Stopwatch.GetTimestamp();
        for (int i = 0; ; i++)
        {
            double elapsed = Stopwatch.GetElapsedTime(warmStart).TotalSeconds;
            bool warm = i >= WarmupCalls && elapsed >= WarmupSeconds;
            bool settled = i >= SettleCalls || elapsed >= SettleSeconds;
            if (warm && settled || Simulated && i >= 1) break;
            long t0 = Stopwatch.GetTimestamp();
            body();
            Synchronize();
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        int calls = (int)Math.Clamp(Math.Ceiling(MinSampleMs / Math.Max(fastest, 1e-6)), 1, 1_000_000);
        int fewest = Math.Min(Simulated ? 1 : MinSamples, options.Repeat);
        int samples = (int)Math.Clamp(Math.Floor(options.BudgetSeconds * 1000 / (calls * fastest)), fewest,
            options.Repeat);
        var times = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int c = 0; c < calls; c++) body();
            Synchronize();
            times[s] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / calls;
        }
        Array.Sort(times);
        int n = times.Length;
        double median = (times[(n - 1) / 2] + times[n / 2]) / 2;
        return new BenchResult(Suite, caseName, Threads, median, times[0], times[(n - 1) / 4],
            times[3 * (n - 1) / 4], samples, calls,
            Gflops: flops > 0 ? flops / median / 1e6 : null,
            GbPerS: bytes > 0 ? bytes / median / 1e6 : null, Device: OnCpu ? null : Device.ToString());
    }
}
