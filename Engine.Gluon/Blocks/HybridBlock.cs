using Engine.Graphs;
using Engine.Graphs.Passes;
using Engine.Kernels.Fusion;

namespace Engine.Gluon;

/// <summary>Options of <see cref="Block.Hybridize"/>, MXNet's static_alloc and static_shape.</summary>
public sealed record HybridizeOptions
{
    /// <summary>Keep the compiled graph's buffers between calls (the memory plan binds to one arena).</summary>
    public bool StaticAlloc { get; init; }

    /// <summary>Promise that input shapes never change: a new shape is an error instead of a retrace.</summary>
    public bool StaticShape { get; init; }

    /// <summary>
    /// Let the graph compiler fuse: elementwise chains into one program, activations into the preceding
    /// FullyConnected or Convolution, and (inference only) BatchNorm into the preceding Convolution. On by default;
    /// off runs the traced operators one by one (for A/B measurements).
    /// </summary>
    public bool Fusion { get; init; } = true;

    /// <summary>How the CPU runs fused elementwise programs (docs/graph-compiler.md compares the designs).</summary>
    public FusionDesign FusionDesign { get; init; } = FusionDesign.GenericStruct;

    internal CompilerOptions Compiler => new() { Fusion = Fusion, Design = FusionDesign };
}

/// <summary>
/// A block whose Forward uses only operations that can also be traced into a graph (MXNet's HybridBlock). Its
/// children must be HybridBlocks. Imperatively it runs Forward; after <see cref="Hybridize"/>, its first call
/// traces Forward over symbolic arrays into a graph (Forward runs once, with no data) and later calls with the same
/// input signature (shapes, dtypes, device, training mode) run the cached graph without calling Forward.
/// </summary>
public abstract partial class HybridBlock : Block
{
    private readonly Dictionary<string, GraphExecutor> cache = new(StringComparer.Ordinal);
    private readonly Dictionary<(GraphExecutor, System.Numerics.BigInteger), TrainingGraph> training = new();
    // The graph each executor was traced as (the executor runs it after the compiler's passes).
    private readonly Dictionary<GraphExecutor, Graph> traced = new();
    private Graph? lastGraph;
    private Shape[]? staticShapes;
    private GraphExecutor? lastTrain, lastPredict, lastExecutor;

    protected HybridBlock(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

    /// <summary>Whether Hybridize(true) was called.</summary>
    public bool IsHybridized { get; private set; }

    public HybridizeOptions Options { get; private set; } = new();

    /// <summary>The graph of the most recent traced call (null before the first hybridized call).</summary>
    public Graph? CachedGraph => lastGraph;

    /// <summary>The optimized graph the most recent hybridized call ran (fused when fusion is on).</summary>
    public Graph? CompiledGraph => lastExecutor?.Optimized;

    /// <summary>The compiled graph of the last inference call (tests; null before one).</summary>
    internal Engine.Graphs.CompiledGraph? LastCompiledInference => lastPredict?.Compiled;

    /// <summary>How many graphs are cached (one per input signature seen).</summary>
    public int CachedGraphCount => cache.Count;

    public override T RegisterChild<T>(T block, string? name = null)
    {
        if (block is not HybridBlock)
            throw new ArgumentException(
                $"Children of HybridBlock must also be HybridBlock, but {block.Name} has type " +
                $"{block.GetType().Name}. " +
                "If you are using Sequential, please try HybridSequential instead.");
        var result = base.RegisterChild(block, name);
        ClearCache();
        return result;
    }

    protected override void OnChildrenChanged()
    {
        base.OnChildrenChanged();
        ClearCache();
    }

    public override void Cast(DType dtype)
    {
        base.Cast(dtype);
        ClearCache();
    }

    public override void Hybridize(bool active = true, HybridizeOptions? options = null)
    {
        options ??= new HybridizeOptions();
        if (options.StaticShape && !options.StaticAlloc)
            throw new ArgumentException(
                $"{Name}: StaticShape requires StaticAlloc; use new HybridizeOptions {{ StaticAlloc = true, " +
                "StaticShape = true }}.");
        if (active && HasHooks)
            Warnings.Warn($"\"{Name}\" is being hybridized while still having forward hook/pre-hook. If \"{Name}\" " +
                          "is a child of HybridBlock, the hooks will not take effect.");
        IsHybridized = active;
        Options = options;
        ClearCache();
        base.Hybridize(active, options);
    }

    /// <summary>
    /// What the last hybridized call compiled, as text: the kernels a call launches (and the operators before
    /// fusion), the optimized inference graph, the fused groups and epilogues of the inference graph and of the
    /// training graph (forward and backward), and the memory plans for inference and for training (planned buffer
    /// bytes against the unplanned total, one arena per call). With <paramref name="listLaunches"/>, the launch
    /// lists of the inference call and of the training step follow, one line per kernel launch; launches run while
    /// <see cref="Engine.Diagnostics.OpProfiler"/> was on start with their microseconds per run.
    /// </summary>
    public string Explain(bool listLaunches = false)
    {
        if (lastGraph is null)
            throw new InvalidOperationException(
                $"{Name}: nothing compiled yet; call Hybridize() and run the block once before Explain().");
        var executor = cache.Values.FirstOrDefault(e => ReferenceEquals(traced[e], lastGraph))
                       ?? new GraphExecutor(CompilerPipeline.Inference(lastGraph, Options.Compiler),
                           Options.StaticAlloc);
        var device = executor.Compiled?.Device ?? DefaultDevice.Current;
        var inference = executor.CompileFor(device);
        var noGradient = new bool[lastGraph.Inputs.Count];
        var trainer = training.FirstOrDefault(kv => ReferenceEquals(kv.Key.Item1, executor)).Value
                      ?? new TrainingGraph(lastGraph, noGradient, Options.StaticAlloc,
                          CompilerPipeline.AfterGradient(lastGraph.Outputs.Count, Options.Compiler));
        var step = trainer.CompileFor(device);
        int unfused = new GraphExecutor(lastGraph).CompileFor(device).LaunchCount;
        int unfusedStep = new TrainingGraph(lastGraph, noGradient).CompileFor(device).LaunchCount;
        string arena = Options.StaticAlloc ? "allocated once (StaticAlloc)" : "rented from the pool per call";
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{Name}: {inference.LaunchCount} kernels per inference call ({unfused} unfused), " +
                      $"{step.LaunchCount} per training step ({step.SplitLaunch} forward, " +
                      $"{step.LaunchCount - step.SplitLaunch} backward; {unfusedStep} unfused); " +
                      $"arena {arena}" + (Options.StaticShape ? ", shapes bound once (StaticShape)" : ""));
        sb.AppendLine(executor.Optimized.ToString());
        AppendFusion(sb, "inference", executor.Optimized);
        AppendFusion(sb, "training", trainer.Joint);
        sb.AppendLine($"inference {Summary(inference.Plan)}");
        sb.Append($"training {Summary(step.Plan)}");
        if (listLaunches)
        {
            sb.AppendLine().AppendLine("inference launches: " + inference.Describe(listLaunches: true));
            sb.Append("training step launches: " + step.Describe(listLaunches: true));
        }
        return sb.ToString();

        static string Summary(Engine.Graphs.Passes.MemoryPlan plan) => plan.ToString().Split('\n')[0];
    }

    /// <summary>Forgets the per-launch timings of every compiled graph of this block (see Explain).</summary>
    public void ResetLaunchTimes()
    {
        foreach (var e in cache.Values) e.Compiled?.ResetLaunchTimes();
        foreach (var t in training.Values) t.Compiled?.ResetLaunchTimes();
    }

    /// <summary>One line per fused group (its program and the nodes it replaced) and per epilogue.</summary>
    private static void AppendFusion(System.Text.StringBuilder sb, string what, Graph graph)
    {
        var groups = graph.Operators.Where(n => n.Attrs is Engine.Ops.FusedElementwiseAttrs).ToList();
        var epilogues = graph.Operators.Where(n => n.Attrs is Engine.Ops.FullyConnectedAttrs { Activation: not
            Engine.Kernels.EpilogueActivation.None } or Engine.Ops.ConvolutionAttrs { Activation: not
            Engine.Kernels.EpilogueActivation.None }).ToList();
        var folded = graph.Parameters.Where(p => p.Binding is IComputedBinding).ToList();
        int masks = graph.Operators.Count(n => n.Attrs is Engine.Ops.PoolingAttrs { ReluMask: true } &&
            n.Op == Engine.Ops.PoolingOps.PoolingBackward || n.Attrs is Engine.Ops.PoolingArgMaxBackwardAttrs
            { Pooling.ReluMask: true });
        int argMax = graph.Operators.Count(n => n.Op == Engine.Ops.PoolingOps.PoolingArgMaxBackward);
        sb.AppendLine($"{what}: {groups.Count} fused groups, {epilogues.Count} epilogues, " +
                      $"{folded.Count / 2} batch norms folded" +
                      (masks > 0 ? $", {masks} relu backwards folded into pooling backwards" : "") +
                      (argMax > 0 ? $", {argMax} max-pool backwards from saved arg-max indices" : ""));
        foreach (var n in groups)
        {
            var a = (Engine.Ops.FusedElementwiseAttrs)n.Attrs!;
            sb.AppendLine($"  {n.Name} = {a.Program} [{a.Members}]");
        }
        foreach (var n in epilogues)
            sb.AppendLine($"  {n.Name} = {n.Op!.Name} + {(n.Attrs!.ToDictionary()["fused_activation"])}");
    }

    /// <summary>Drops the cached graphs: the next hybridized call traces again.</summary>
    protected internal void ClearCache()
    {
        cache.Clear();
        training.Clear();
        traced.Clear();
        lastGraph = null;
        lastExecutor = null;
        staticShapes = null;
        lastTrain = lastPredict = null;
    }

    public override NDArray[] CallMany(params NDArray[] inputs)
    {
        // Inside a parent's trace a child is inlined into the parent's graph; its own cache is unused.
        if (!IsHybridized || Tracer.Current is not null) return base.CallMany(inputs);
        bool train = Autograd.IsTraining;
        var executor = train ? lastTrain : lastPredict;
        // The last signature seen in this mode is checked field by field, without building the cache key.
        bool hit = executor is not null && Matches(executor, inputs);
        if (!hit)
        {
            CheckInputs(inputs);
            if (staticShapes is not null) CheckStaticShapes(inputs);
            string key = Signature(inputs);
            if (!cache.TryGetValue(key, out executor))
            {
                staticShapes ??= Options.StaticShape ? inputs.Select(x => x.Shape).ToArray() : null;
                var tracedGraph = Trace(inputs);
                executor = new GraphExecutor(CompilerPipeline.Inference(tracedGraph, Options.Compiler),
                    Options.StaticAlloc);
                cache[key] = executor;
                traced[executor] = tracedGraph;
            }
            if (train) lastTrain = executor;
            else lastPredict = executor;
        }
        lastExecutor = executor!;
        lastGraph = traced[executor!];
        // StaticShape: shapes, dtypes and devices were just compared with the bound ones; nothing more to check.
        bool check = staticShapes is null;
        if (!Autograd.IsRecording) return executor!.Run(inputs, BindParameter, check);
        // Recording: the whole call is one tape entry whose backward runs the traced gradient graph.
        // Inputs outside any graph (a batch of data) need no gradient: the training graph never computes one.
        var needs = new bool[inputs.Length];
        var mask = new System.Numerics.BigInteger();
        for (int i = 0; i < inputs.Length; i++)
        {
            needs[i] = inputs[i].IsInGraph;
            if (needs[i]) mask |= System.Numerics.BigInteger.One << i;
        }
        var trainingKey = (executor!, mask);
        if (!training.TryGetValue(trainingKey, out var graph))
            training[trainingKey] = graph = new TrainingGraph(lastGraph, needs, Options.StaticAlloc,
                CompilerPipeline.AfterGradient(lastGraph.Outputs.Count, Options.Compiler));
        return graph.Record(inputs, BindParameter, check);
    }

    /// <summary>Whether the inputs have the shapes, dtypes and device the executor's graph was traced for.</summary>
    private static bool Matches(GraphExecutor executor, NDArray[] inputs)
    {
        var graph = executor.Graph;
        if (inputs.Length != graph.Inputs.Count) return false;
        Device? device = null;
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            if (x is null) return false;
            var t = graph.Inputs[i].OutputTypes[0];
            if (x.Shape != t.Shape || x.DType != t.DType) return false;
            device ??= x.Device;
            if (x.Device != device) return false;
        }
        return executor.Compiled is not { } c || c.Device == device;
    }

    private void CheckStaticShapes(NDArray[] inputs)
    {
        var bound = staticShapes!;
        if (bound.Length == inputs.Length && bound.Zip(inputs).All(p => p.First == p.Second.Shape)) return;
        throw new InvalidOperationException(
            $"{Name}: hybridized with StaticShape, which bound the input shapes to " +
            $"{string.Join(", ", bound.Select(b => b.ToString()))} on the first call, but this call gives " +
            $"{string.Join(", ", inputs.Select(x => x.Shape.ToString()))}; static shapes cannot change. Hybridize " +
            "with StaticShape = false (MXNet's static_shape=False) to allow new shapes (each one is traced).");
    }

    private static NDArray BindParameter(Node node) => node.Binding switch
    {
        Parameter p => p.Data(),
        // A value the compiler derived from parameters (a convolution's weight with a BatchNorm folded in).
        IComputedBinding computed => computed.Value(BindParameter),
        _ => throw new InvalidOperationException($"graph: parameter node {node.Name} is not bound to a Parameter."),
    };

    private Graph Trace(NDArray[] inputs)
    {
        using var tracer = new Tracer(Name);
        var symbols = new NDArray[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            symbols[i] = tracer.Input(inputs.Length == 1 ? "data" : $"data{i}", inputs[i].Shape, inputs[i].DType,
                inputs[i].Device);
        var outputs = base.CallMany(symbols);
        var graph = tracer.Finish(outputs);
        graph.Verify();
        return graph;
    }

    private void CheckInputs(NDArray[] inputs)
    {
        if (inputs.Length == 0 || inputs.All(x => x is null))
            throw new ArgumentException($"{Name}: All args are None and we do not support such a case; a hybridized " +
                                        "block needs at least one input array.");
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null)
                throw new ArgumentException(
                    $"{Name}: when hybridized, the input of HybridBlock must be (nested) list of Symbol or NDArray, " +
                    $"but input {i} is null.");
        }
        var devices = inputs.Select(x => x.Device).Distinct().ToList();
        if (devices.Count > 1)
            throw new ArgumentException(
                $"{Name}: Find multiple contexts in the input, After hybridized, the HybridBlock only supports one " +
                $"input context. You can print the ele.ctx in the input arguments to inspect their contexts. " +
                $"Find all contexts = [{string.Join(", ", devices)}]");
    }

    private static string Signature(NDArray[] inputs) =>
        string.Join(";", inputs.Select(x => $"{x.DType}{x.Shape}@{x.Device}")) +
        (Autograd.IsTraining ? "|train" : "|predict");
}
