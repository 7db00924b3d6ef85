using Engine.Kernels;
using Engine.Memory;

namespace Engine.Graphs;

/// <summary>
/// The state of one call of a <see cref="CompiledGraph"/>: bound inputs and parameters, the arena, the arrays of
/// outputs, and the kernel arguments of every launch (arrays reused from call to call). A training call keeps its
/// frame from the forward segment to the backward one; an inference call returns it to its graph at once.
/// </summary>
internal sealed class ExecutionFrame
{
    private readonly CompiledGraph graph;
    private readonly TensorArg[][] ins, outs;
    private readonly KernelContext context;
    private readonly NDArray?[] inputs;
    private readonly long[] inputBase;
    private readonly NDArray?[] parameters;
    private readonly long[] parameterBase;
    private readonly NDArray?[] owned;
    private readonly bool[] given;
    private readonly List<NDArray> temporaries = [];
    private readonly bool retainBound;
    private DeviceBuffer? arena;
    private bool arenaIsStatic;
    private int[]? stamps;

    /// <param name="retainBound">Keep aliases of the bound inputs and parameters until <see cref="Clear"/>: a
    /// training frame's backward reads them after the caller may have disposed its arrays, as the imperative tape
    /// keeps what its backward reads.</param>
    public ExecutionFrame(CompiledGraph graph, bool retainBound = false)
    {
        this.retainBound = retainBound;
        this.graph = graph;
        var launches = graph.Launches;
        ins = new TensorArg[launches.Count][];
        outs = new TensorArg[launches.Count][];
        for (int k = 0; k < launches.Count; k++)
        {
            ins[k] = new TensorArg[launches[k].Inputs.Length];
            outs[k] = new TensorArg[launches[k].Outputs.Length];
        }
        context = new KernelContext(graph.Runtime, "graph");
        inputs = new NDArray?[graph.Graph.Inputs.Count];
        inputBase = new long[inputs.Length];
        parameters = new NDArray?[graph.Graph.Parameters.Count];
        parameterBase = new long[parameters.Length];
        owned = new NDArray?[graph.OwnedTypes.Length];
        given = new bool[owned.Length];
    }

    /// <summary>
    /// Binds graph inputs <paramref name="first"/>.. to <paramref name="values"/> and, when
    /// <paramref name="bind"/> is given, every parameter; takes the arena on the first bind of a call.
    /// <paramref name="check"/> validates shapes, dtypes and devices (off only where StaticShape checked them).
    /// </summary>
    public void Bind(IReadOnlyList<NDArray> values, int first, Func<Node, NDArray>? bind, bool check)
    {
        var graphInputs = graph.Graph.Inputs;
        for (int i = 0; i < values.Count; i++)
        {
            var node = graphInputs[first + i];
            inputs[first + i] = Dense(values[i], node, check, out inputBase[first + i]);
        }
        if (bind is not null)
        {
            var ps = graph.Graph.Parameters;
            for (int p = 0; p < ps.Count; p++) parameters[p] = Dense(bind(ps[p]), ps[p], check, out parameterBase[p]);
        }
        if (arena is null && graph.ArenaBytes > 0)
        {
            arena = graph.TakeArena(out arenaIsStatic);
            if (CompiledGraph.CheckReads) Array.Fill(stamps ??= new int[graph.Plan.StorageCount], -1);
        }
    }

    private NDArray Dense(NDArray x, Node node, bool check, out long offset)
    {
        if (check)
        {
            ArgumentNullException.ThrowIfNull(x);
            var type = node.OutputTypes[0];
            if (x.Shape != type.Shape || x.DType != type.DType)
                throw new ArgumentException(
                    $"graph: {node.Name} was compiled for {type}, but the array given is {x.DType.Name()}{x.Shape}; " +
                    "compile the graph again for the new shape.");
            if (x.Device != graph.Device)
                throw new ArgumentException(
                    $"graph: {node.Name} is on {x.Device} but the graph was compiled for {graph.Device}; move it " +
                    "with CopyTo.");
        }
        x.ThrowIfNoData();
        offset = x.Offset;
        if (x.IsContiguous)
        {
            if (!retainBound) return x;
            var alias = x.UntrackedAlias();
            temporaries.Add(alias);
            return alias;
        }
        // Views of the value are laid out for a dense array: a strided input is copied once per call.
        NDArray copy;
        using (Autograd.Pause(Autograd.IsTraining)) copy = x.Copy();
        temporaries.Add(copy);
        offset = 0;
        return copy;
    }

    private TensorArg Resolve(ValueSlot v)
    {
        switch (v.Source)
        {
            case ValueSource.Arena:
                return new TensorArg(arena!, v.Layout, v.DType);
            case ValueSource.Owned:
                return new TensorArg(owned[v.Index]!.Storage.Buffer, v.Layout, v.DType);
            case ValueSource.Input:
                return new TensorArg(inputs[v.Index]!.Storage.Buffer,
                    CompiledGraph.Shift(v.Layout, inputBase[v.Index]), v.DType);
            case ValueSource.Parameter:
                return new TensorArg(parameters[v.Index]!.Storage.Buffer,
                    CompiledGraph.Shift(v.Layout, parameterBase[v.Index]), v.DType);
            default:
                return new TensorArg(graph.Constants[v.Index].Storage.Buffer, v.Layout, v.DType);
        }
    }

    /// <summary>Runs launches <paramref name="from"/> to <paramref name="to"/> (exclusive).</summary>
    public void RunLaunches(int from, int to)
    {
        var launches = graph.Launches;
        var check = CompiledGraph.CheckReads ? stamps : null;
        for (int k = from; k < to; k++)
        {
            var launch = launches[k];
            var a = ins[k];
            var slots = launch.Inputs;
            for (int i = 0; i < a.Length; i++)
            {
                var v = slots[i];
                if (check is not null && v.Source == ValueSource.Arena) CheckRead(check, launch, v);
                a[i] = Resolve(v);
            }
            var y = outs[k];
            slots = launch.Outputs;
            for (int o = 0; o < y.Length; o++)
            {
                var v = slots[o];
                if (v.Source == ValueSource.Owned)
                {
                    var t = graph.OwnedTypes[v.Index];
                    // A segment run again (a retained backward) writes new arrays; the caller keeps the old ones.
                    if (owned[v.Index] is { } old && !given[v.Index]) old.Dispose();
                    given[v.Index] = false;
                    owned[v.Index] = NDArray.Empty(t.Shape, t.DType, graph.Device);
                }
                y[o] = Resolve(v);
            }
            context.SetRequests(launch.Requests);
            long started = Diagnostics.OpProfiler.Begin();
            if (launch.PerCall is { } perCall) launch.Kernel.RunWith(perCall.ForCall(launch.InputTypes), context, a, y);
            else launch.Kernel.Run(context, a, y);
            if (started != 0)
            {
                graph.AddLaunchTime(k, System.Diagnostics.Stopwatch.GetTimestamp() - started);
                Diagnostics.OpProfiler.End(launch.Kernel.Op.Name, launch.InputTypes, started);
            }
            if (context.ScratchBytes > launch.ScratchLimit)
                throw new InvalidOperationException(
                    $"{launch.Kernel.Op.Name}: the {graph.Device} kernel took {context.ScratchBytes} bytes of " +
                    $"scratch memory but the operator declares at most {launch.ScratchLimit}; fix its Scratch rule.");
            context.Reset();
            foreach (int m in launch.Mutates) Written(launch.Inputs[m]);
            if (check is not null)
            {
                foreach (var v in slots)
                {
                    if (v.Source == ValueSource.Arena) check[v.Index] = v.Writer;
                }
            }
        }
    }

    private void CheckRead(int[] check, Launch launch, ValueSlot v)
    {
        int found = check[v.Index];
        if (found == v.Writer) return;
        string by = found < 0 ? "nothing yet" : graph.WriterNames[found];
        throw new InvalidOperationException(
            $"graph executor: {launch.Node.Name} reads {v.Name} from planned buffer {v.Index}, which holds " +
            $"{by} instead of {graph.WriterNames[v.Writer]}: the memory plan overwrote a value before its last read.");
    }

    /// <summary>Bumps the version of an array a kernel wrote in place (autograd's in-place checks see it).</summary>
    private void Written(ValueSlot v)
    {
        switch (v.Source)
        {
            case ValueSource.Input: inputs[v.Index]!.Storage.Version++; break;
            case ValueSource.Parameter: parameters[v.Index]!.Storage.Version++; break;
            case ValueSource.Constant: graph.Constants[v.Index].Storage.Version++; break;
            case ValueSource.Owned: owned[v.Index]!.Storage.Version++; break;
        }
    }

    /// <summary>
    /// Outputs <paramref name="from"/>.. of the graph as arrays: an output array itself the first time it is
    /// given (unless <paramref name="aliasOwned"/>: then a view, the frame keeping its own reference for a later
    /// segment), a view otherwise (a view output, an input or parameter passed through, an output given twice).
    /// </summary>
    public NDArray[] Results(int from, int count, bool aliasOwned)
    {
        var result = new NDArray[count];
        for (int k = 0; k < count; k++)
        {
            var v = graph.Outputs[from + k];
            switch (v.Source)
            {
                case ValueSource.Owned:
                    var array = owned[v.Index]!;
                    bool whole = v.Layout.Shape == array.Shape && v.Layout.Offset == 0 && v.Layout.IsContiguous;
                    if (whole && !aliasOwned && !given[v.Index])
                    {
                        given[v.Index] = true;
                        result[k] = array;
                    }
                    else result[k] = array.View(v.Layout.Shape, v.Layout.Strides, v.Layout.Offset);
                    break;
                case ValueSource.Input:
                    result[k] = View(inputs[v.Index]!, v, inputBase[v.Index]);
                    break;
                case ValueSource.Parameter:
                    result[k] = View(parameters[v.Index]!, v, parameterBase[v.Index]);
                    break;
                case ValueSource.Constant:
                    result[k] = View(graph.Constants[v.Index], v, 0);
                    break;
                default:
                    throw new InvalidOperationException($"graph: output {v.Name} was planned into the arena.");
            }
        }
        return result;

        static NDArray View(NDArray x, ValueSlot v, long offset) =>
            x.View(v.Layout.Shape, v.Layout.Strides, v.Layout.Offset + offset);
    }

    /// <summary>
    /// A copy of the arena (and of the read checks' record of who wrote each storage), for a segment that must
    /// run again after a later one has reused the storages it reads: a retained backward.
    /// </summary>
    public ArenaSnapshot Save()
    {
        if (arena is null) return new ArenaSnapshot(null, (int[]?)stamps?.Clone());
        long words = graph.ArenaBytes / sizeof(int);
        if (graph.ArenaBytes % sizeof(int) != 0 || words > int.MaxValue)
            throw new InvalidOperationException(
                $"graph: an arena of {graph.ArenaBytes} bytes cannot be copied for a retained backward.");
        var copy = graph.Runtime.Allocate(graph.ArenaBytes);
        var layout = TensorLayout.Contiguous(new Shape((int)words));
        graph.Runtime.Copy(new TensorArg(arena, layout, DType.Int32), new TensorArg(copy, layout, DType.Int32));
        return new ArenaSnapshot(copy, (int[]?)stamps?.Clone());
    }

    /// <summary>Puts back what <see cref="Save"/> copied and frees the copy.</summary>
    public void Restore(ArenaSnapshot snapshot)
    {
        if (snapshot.Arena is { } copy)
        {
            var layout = TensorLayout.Contiguous(new Shape((int)(graph.ArenaBytes / sizeof(int))));
            graph.Runtime.Copy(new TensorArg(copy, layout, DType.Int32), new TensorArg(arena!, layout, DType.Int32));
            copy.Dispose();
        }
        if (snapshot.Stamps is { } saved) saved.CopyTo(stamps!, 0);
    }

    /// <summary>Ends the call: the arena goes back, arrays not given to the caller are freed.</summary>
    public void Clear()
    {
        graph.ReturnArena(arena, arenaIsStatic);
        arena = null;
        for (int i = 0; i < owned.Length; i++)
        {
            if (!given[i]) owned[i]?.Dispose();
            owned[i] = null;
            given[i] = false;
        }
        foreach (var t in temporaries) t.Dispose();
        temporaries.Clear();
        Array.Clear(inputs);
        Array.Clear(parameters);
        for (int k = 0; k < ins.Length; k++)
        {
            Array.Clear(ins[k]);
            Array.Clear(outs[k]);
        }
    }
}

/// <summary>A copy of a frame's arena and read-check record (<see cref="ExecutionFrame.Save"/>).</summary>
internal readonly record struct ArenaSnapshot(DeviceBuffer? Arena, int[]? Stamps);
