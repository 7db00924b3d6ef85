using System.Text;
using Engine.Graphs.Passes;
using Engine.Kernels;
using Engine.Memory;
using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// A graph compiled for one device: a flat list of prepared kernel launches over the buffers of a memory plan.
/// Everything that does not change between calls is done here once: kernel look-up per device, attributes,
/// shape rules, view layouts, the place of every value (a range of one arena, or a fresh array for outputs),
/// write requests (in place where the plan reuses an input's buffer) and scratch bounds. A call binds inputs and
/// parameters, takes an arena, and runs the list.
/// </summary>
/// <remarks>With <see cref="StaticAlloc"/> the arena is allocated once and kept for every later call (a call that
/// finds it busy, on another thread or while a recorded call still holds it for its backward, rents its own);
/// without it each call rents the arena from the device pool and returns it. Outputs are always fresh arrays, so
/// nothing a caller holds aliases the arena.</remarks>
public sealed partial class CompiledGraph
{
    private readonly Launch[] launches;
    private readonly long[] storageOffsets;
    private readonly ValueSlot[] outputs;
    private readonly TensorType[] ownedTypes;
    private readonly string[] writerNames;
    private readonly DeviceRuntime runtime;
    private DeviceBuffer? staticArena;
    private int staticArenaBusy;
    private ExecutionFrame? idleFrame;
    // Per-launch time and calls, summed while OpProfiler runs (Describe prints them).
    private readonly long[] launchTicks;
    private readonly int[] launchCalls;

    private CompiledGraph(Graph graph, Device device, MemoryPlan plan, bool staticAlloc, Launch[] launches,
        long[] storageOffsets, long arenaBytes, ValueSlot[] outputs, TensorType[] ownedTypes, string[] writerNames,
        int splitLaunch)
    {
        Graph = graph;
        Device = device;
        Plan = plan;
        StaticAlloc = staticAlloc;
        this.launches = launches;
        this.storageOffsets = storageOffsets;
        ArenaBytes = arenaBytes;
        this.outputs = outputs;
        this.ownedTypes = ownedTypes;
        this.writerNames = writerNames;
        SplitLaunch = splitLaunch;
        runtime = DeviceRuntime.For(device);
        launchTicks = new long[launches.Length];
        launchCalls = new int[launches.Length];
    }

    /// <summary>
    /// When true, every call checks that no launch reads a planned buffer after another value overwrote it
    /// (a version stamp per buffer, compared on every read): for tests and debugging, off by default (on in
    /// Debug builds).
    /// </summary>
    public static bool CheckReads { get; set; }
#if DEBUG
        = true;
#endif

    public Graph Graph { get; }

    public Device Device { get; }

    public MemoryPlan Plan { get; }

    public bool StaticAlloc { get; }

    /// <summary>Kernels a call launches (views are layouts and launch nothing).</summary>
    public int LaunchCount => launches.Length;

    /// <summary>Bytes of the arena that holds every planned buffer (each buffer 64-byte aligned).</summary>
    public long ArenaBytes { get; }

    /// <summary>Where the second segment starts (a training graph's backward); the launch count when none.</summary>
    public int SplitLaunch { get; }

    internal IReadOnlyList<Launch> Launches => launches;

    internal ValueSlot[] Outputs => outputs;

    internal TensorType[] OwnedTypes => ownedTypes;

    internal string[] WriterNames => writerNames;

    internal DeviceRuntime Runtime => runtime;

    /// <summary>The arena kept between calls (StaticAlloc; null before the first call).</summary>
    internal DeviceBuffer? StaticArena => staticArena;

    /// <summary>
    /// Compiles <paramref name="graph"/> for <paramref name="device"/>. <paramref name="order"/> is the order the
    /// operators run in (the graph's own when null); <paramref name="split"/>, when given, ends the first segment
    /// (a training graph's forward part: <see cref="ExecutionFrame"/> runs the segments as separate steps).
    /// </summary>
    public static CompiledGraph Compile(Graph graph, Device device, bool staticAlloc = false,
        IReadOnlyList<Node>? order = null, int? split = null, MemoryPlan? plan = null)
    {
        order ??= graph.Nodes;
        plan ??= MemoryPlan.For(graph, order);
        // Storages in the arena: 64-byte aligned, as the pool aligns every block.
        var offsets = new long[plan.StorageCount];
        long arena = 0;
        for (int s = 0; s < offsets.Length; s++)
        {
            offsets[s] = arena;
            arena += (plan.StorageBytes(s) + CpuMemoryPool.Alignment - 1) / CpuMemoryPool.Alignment *
                     CpuMemoryPool.Alignment;
        }
        var slots = new Dictionary<NodeOutput, ValueSlot>();
        var inputIndex = Index(graph.Inputs);
        var parameterIndex = Index(graph.Parameters);
        var constants = new List<Node>();
        var owned = new List<TensorType>();
        var writers = new List<string>();
        var launches = new List<Launch>();
        int splitLaunch = -1;
        for (int k = 0; k < order.Count; k++)
        {
            if (k == split) splitLaunch = launches.Count;
            var n = order[k];
            switch (n.Kind)
            {
                case NodeKind.Input:
                    slots[n[0]] = Variable(ValueSource.Input, inputIndex[n], n);
                    continue;
                case NodeKind.Parameter:
                    slots[n[0]] = Variable(ValueSource.Parameter, parameterIndex[n], n);
                    continue;
                case NodeKind.Constant:
                    constants.Add(n);
                    slots[n[0]] = new ValueSlot(ValueSource.Constant, constants.Count - 1, n.Value!.Layout,
                        n.Value.DType, -1, n.Name);
                    continue;
            }
            var op = n.Op!;
            var inputs = n.Inputs.Select(i => slots[i]).ToArray();
            if (op.IsView)
            {
                var source = inputs[0];
                // Views are computed over the layout relative to the storage; arena values start at its offset.
                long baseOffset = source.Source == ValueSource.Arena
                    ? offsets[source.Index] / source.DType.SizeInBytes() : 0;
                var layout = Shift(source.Layout, -baseOffset);
                var view = op.ViewLayout(n.Attrs!, layout, source.DType, n.OutputTypes[0]) ?? throw new
                    InvalidOperationException($"graph: view {n.Name} ({op.Name}) needs a dense input; run the " +
                                              "DenseViewPass before compiling.");
                slots[n[0]] = new ValueSlot(source.Source, source.Index, Shift(view, baseOffset), source.DType,
                    source.Writer, n.Name);
                continue;
            }
            var outs = new ValueSlot[n.NumOutputs];
            var requests = new WriteRequest[n.NumOutputs];
            for (int o = 0; o < outs.Length; o++)
            {
                var type = n.OutputTypes[o];
                int storage = plan.StorageOf(n[o]);
                var dense = TensorLayout.Contiguous(type.Shape);
                if (storage < 0)
                {
                    owned.Add(type);
                    outs[o] = new ValueSlot(ValueSource.Owned, owned.Count - 1, dense, type.DType, -1, n[o].ToString());
                }
                else
                {
                    long elementOffset = offsets[storage] / type.DType.SizeInBytes();
                    writers.Add(n[o].ToString());
                    outs[o] = new ValueSlot(ValueSource.Arena, storage, Shift(dense, elementOffset), type.DType,
                        writers.Count - 1, n[o].ToString());
                    // The plan put this output over an input's buffer: the kernel is told it runs in place.
                    if (inputs.Any(i => i.Source == ValueSource.Arena && i.Index == storage))
                        requests[o] = WriteRequest.InPlace;
                }
                slots[n[o]] = outs[o];
            }
            var kernel = op.Bind(n.Attrs!, device);
            long scratch = op.ScratchBytes(n.Attrs!, n.Inputs.Select(i => i.Type).ToArray());
            launches.Add(new Launch(n, kernel, inputs, outs, requests, scratch));
        }
        if (splitLaunch < 0) splitLaunch = launches.Count;
        var outputSlots = graph.Outputs.Select(o => slots[o]).ToArray();
        var compiled = new CompiledGraph(graph, device, plan, staticAlloc, launches.ToArray(), offsets, arena,
            outputSlots, owned.ToArray(), writers.ToArray(), splitLaunch)
        {
            Constants = constants.Select(c => c.Value!).ToArray(),
        };
        return compiled;

        static Dictionary<Node, int> Index(IReadOnlyList<Node> nodes)
        {
            var index = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < nodes.Count; i++) index[nodes[i]] = i;
            return index;
        }

        static ValueSlot Variable(ValueSource source, int index, Node n) => new(source, index,
            TensorLayout.Contiguous(n.OutputTypes[0].Shape), n.OutputTypes[0].DType, -1, n.Name);
    }

    internal NDArray[] Constants { get; private init; } = [];

    internal static TensorLayout Shift(TensorLayout layout, long by) =>
        by == 0 ? layout : new TensorLayout(layout.Shape, layout.Strides, layout.Offset + by);

    /// <summary>The arena for one call: the kept one when StaticAlloc and free, else rented from the pool.</summary>
    internal DeviceBuffer? TakeArena(out bool isStatic)
    {
        isStatic = false;
        if (ArenaBytes == 0) return null;
        if (StaticAlloc && Interlocked.CompareExchange(ref staticArenaBusy, 1, 0) == 0)
        {
            isStatic = true;
            return staticArena ??= runtime.Allocate(ArenaBytes);
        }
        return runtime.Allocate(ArenaBytes);
    }

    internal void ReturnArena(DeviceBuffer? arena, bool isStatic)
    {
        if (arena is null) return;
        if (isStatic) Volatile.Write(ref staticArenaBusy, 0);
        else arena.Dispose();
    }

    internal ExecutionFrame TakeFrame() => Interlocked.Exchange(ref idleFrame, null) ?? new ExecutionFrame(this);

    internal void ReturnFrame(ExecutionFrame frame) => Volatile.Write(ref idleFrame, frame);

    /// <summary>Runs the whole graph (no segments kept): inputs by position, parameters through the binder.</summary>
    public NDArray[] Run(IReadOnlyList<NDArray> inputs, Func<Node, NDArray> bind, bool checkInputs = true)
    {
        var frame = TakeFrame();
        try
        {
            frame.Bind(inputs, 0, bind, checkInputs);
            frame.RunLaunches(0, launches.Length);
            return frame.Results(0, outputs.Length, aliasOwned: false);
        }
        finally
        {
            frame.Clear();
            ReturnFrame(frame);
        }
    }

    /// <summary>Adds one run of launch <paramref name="k"/> to its timing (called while OpProfiler runs).</summary>
    internal void AddLaunchTime(int k, long ticks)
    {
        Interlocked.Add(ref launchTicks[k], ticks);
        Interlocked.Increment(ref launchCalls[k]);
    }

    /// <summary>Forgets the per-launch timings (<see cref="Describe"/> prints those taken since).</summary>
    public void ResetLaunchTimes()
    {
        Array.Clear(launchTicks);
        Array.Clear(launchCalls);
    }

    /// <summary>
    /// Microseconds per run of each launch, in launch order, summed over the calls made while
    /// <see cref="Diagnostics.OpProfiler"/> was running (NaN for a launch never timed).
    /// </summary>
    public double[] LaunchMicroseconds() => launchTicks.Select((t, k) => launchCalls[k] == 0 ? double.NaN
        : t * 1e6 / System.Diagnostics.Stopwatch.Frequency / launchCalls[k]).ToArray();

    /// <summary>
    /// Kernels, arena and plan figures, one line each, then one line per launch. Launches timed under
    /// <see cref="Diagnostics.OpProfiler"/> start with their microseconds per run, and products (GEMM, convolution)
    /// with their rate in GFLOP/s; a last line sums the time, and the products' work and rate (the floor of a call
    /// is that work at the processor's GEMM rate).
    /// </summary>
    public string Describe(bool listLaunches = false)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{launches.Length} kernels per call, arena {ArenaBytes:N0} bytes " +
                      $"({(StaticAlloc ? "allocated once" : "from the pool per call")}); " +
                      Plan.ToString().Split('\n')[0]);
        if (listLaunches)
        {
            var us = LaunchMicroseconds();
            bool timed = us.Any(t => !double.IsNaN(t));
            double productFlops = 0, productUs = 0;
            for (int k = 0; k < launches.Length; k++)
            {
                if (k == SplitLaunch && SplitLaunch < launches.Length) sb.AppendLine("  -- backward --");
                double flops = LaunchFlops.Of(launches[k].Node);
                string time = "";
                if (timed && double.IsNaN(us[k])) time = $"{"-",10}    {"",10} ";
                else if (timed)
                {
                    time = $"{us[k],10:F1} us " + (flops > 0 ? $"{flops / us[k] / 1e3,5:F0} GF/s " : $"{"",10} ");
                    if (flops > 0)
                    {
                        productFlops += flops;
                        productUs += us[k];
                    }
                }
                sb.AppendLine($"  {time}{launches[k]}");
            }
            if (timed)
            {
                double forward = us.Take(SplitLaunch).Where(t => !double.IsNaN(t)).Sum();
                double backward = us.Skip(SplitLaunch).Where(t => !double.IsNaN(t)).Sum();
                sb.AppendLine($"  {forward + backward,10:F1} us in kernels per call" +
                              (SplitLaunch < launches.Length
                                  ? $" ({forward:F1} forward, {backward:F1} backward)" : "") +
                              $"; products (GEMM, convolution): {productFlops / 1e6:F1} MFLOP in {productUs:F1} us" +
                              (productUs > 0 ? $" ({productFlops / productUs / 1e3:F0} GFLOP/s)" : ""));
            }
        }
        return sb.ToString().TrimEnd();
    }
}
