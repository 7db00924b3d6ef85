using Engine.Ops;

namespace Engine;

public static partial class Autograd
{
    /// <summary>Appends a tape entry for an operation that ran while recording, when any input is in a graph.</summary>
    internal static void RecordOperation(OpDef op, OpAttrs attrs, NDArray[] inputs, NDArray[] outputs)
    {
        var nodes = new AutogradNode?[inputs.Length];
        bool any = false;
        for (int i = 0; i < inputs.Length; i++)
        {
            nodes[i] = inputs[i].Node;
            any |= nodes[i] is not null;
        }
        if (!any || !op.HasGradient) return;
        var saved = new NDArray[inputs.Length];
        var versions = new int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            saved[i] = op.Saves.Input(i) ? inputs[i].UntrackedAlias() : NotSaved(op, inputs[i], "input", i);
            versions[i] = inputs[i].Storage.Version;
        }
        var savedOutputs = new NDArray[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
            savedOutputs[i] = op.Saves.Output(i) ? outputs[i].UntrackedAlias() : NotSaved(op, outputs[i], "output", i);
        var entry = new TapeEntry(op, attrs, nodes, saved, savedOutputs, versions);
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i].Node = AutogradNode.Output(entry, i);
            entry.Outputs[i].Node = outputs[i].Node;
        }
    }

    private static NDArray NotSaved(OpDef op, NDArray value, string kind, int index)
    {
        var standIn = NDArray.ShapeOnly(value.Shape, value.DType, value.Device,
            $"{op.Name}: the gradient rule read the data of {kind} {index}, which the operator does not keep for " +
            $"backward (it declares Saves = {op.Saves}); declare it in the OpDef's Saves.");
        standIn.Node = value.Node;
        return standIn;
    }

    /// <summary>
    /// Computes the gradients of <paramref name="heads"/> with respect to every variable in their graph and
    /// writes (or adds, per grad_req) them into the variables' Grad. Head gradients default to ones.
    /// </summary>
    public static void Backward(IReadOnlyList<NDArray> heads, IReadOnlyList<NDArray>? headGradients = null,
        bool retainGraph = false)
    {
        var grads = Run(heads, headGradients, retainGraph, createGraph: false, wanted: null);
        foreach (var (node, grad) in grads)
        {
            if (node.Grad is not null && node.GradReq != GradReq.Null)
            {
                using (Pause())
                {
                    if (node.GradReq == GradReq.Write) MoveOrCopy(grad, node.Grad);
                    else
                        Ops.Imperative.Invoke(Ops.ElementwiseOps.Add, Ops.NoAttrs.Instance, [node.Grad, grad],
                            [node.Grad], Kernels.WriteRequest.Write);
                }
                node.FreshGrad = true;
            }
            grad.Dispose();
        }
    }

    /// <summary>
    /// Writes a computed gradient into a variable's Grad. When neither array shares its buffer with another view
    /// (the usual case: the gradient is a fresh result, Grad is only ever read through itself), the two exchange
    /// buffers instead of copying, and the gradient's disposal frees the old one: a parameter of a million
    /// elements then costs nothing here rather than a 4 MB copy.
    /// </summary>
    private static void MoveOrCopy(NDArray grad, NDArray destination)
    {
        bool sameLayout = grad.Shape == destination.Shape && grad.DType == destination.DType &&
            grad.Offset == 0 && destination.Offset == 0 && grad.IsContiguous && destination.IsContiguous;
        if (!sameLayout || !destination.Storage.TrySwapBuffers(grad.Storage))
        {
            Nd.CopyInto(grad, destination);
            return;
        }
        destination.Storage.Version++;
    }

    /// <summary>
    /// The gradients of <paramref name="heads"/> with respect to <paramref name="variables"/>, as new arrays
    /// (the variables' Grad is not touched). With <paramref name="createGraph"/> the backward computation is
    /// itself recorded, so the result can be differentiated again.
    /// </summary>
    public static NDArray[] Grad(IReadOnlyList<NDArray> heads, IReadOnlyList<NDArray> variables,
        IReadOnlyList<NDArray>? headGradients = null, bool? retainGraph = null, bool createGraph = false)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var nodes = variables.Select((v, i) => v.Node is { IsVariable: true } n ? n : throw new ArgumentException(
            $"autograd.grad: variables[{i}] (shape {v.Shape}) is not a variable; call AttachGrad() on it before " +
            "recording.")).ToList();
        var grads = Run(heads, headGradients, retainGraph ?? createGraph, createGraph,
            new HashSet<AutogradNode>(nodes));
        var result = new NDArray[variables.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = grads.TryGetValue(nodes[i], out var g) ? g : Nd.ZerosLike(variables[i]);
        }
        return result;
    }

    /// <summary>
    /// Whether the backward running on this thread keeps its graph (retainGraph): a gradient rule that would
    /// consume state its entry holds (a hybridized call's frame) must keep it for the next backward.
    /// </summary>
    internal static bool RetainsGraph => retainsGraph;

    [ThreadStatic] private static bool retainsGraph;

    private static Dictionary<AutogradNode, NDArray> Run(IReadOnlyList<NDArray> heads,
        IReadOnlyList<NDArray>? headGradients, bool retainGraph, bool createGraph, HashSet<AutogradNode>? wanted)
    {
        bool outer = retainsGraph;
        retainsGraph = retainGraph;
        try
        {
            return RunCore(heads, headGradients, retainGraph, createGraph, wanted);
        }
        finally
        {
            retainsGraph = outer;
        }
    }

    private static Dictionary<AutogradNode, NDArray> RunCore(IReadOnlyList<NDArray> heads,
        IReadOnlyList<NDArray>? headGradients, bool retainGraph, bool createGraph, HashSet<AutogradNode>? wanted)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0) throw new ArgumentException("backward: no head arrays given.");
        if (headGradients is not null && headGradients.Count != heads.Count)
            throw new ArgumentException(
                $"backward: {heads.Count} heads but {headGradients.Count} head gradients; give one per head.");
        for (int i = 0; i < heads.Count; i++)
        {
            var h = heads[i];
            h.ThrowIfDisposed();
            if (h.Node is null)
                throw new InvalidOperationException(
                    "Cannot differentiate node because it is not in a computational graph. You need to set " +
                    "is_recording to true or use Autograd.Record() to save computational graphs for backward. " +
                    "If you want to differentiate the same graph twice, you need to pass retainGraph: true to " +
                    $"Backward. (head {i}, shape {h.Shape})");
            if (headGradients?[i] is { } hg && hg.Shape != h.Shape)
                throw new ArgumentException(
                    $"backward: head gradient {i} has shape {hg.Shape} but the head has shape {h.Shape}; they must " +
                    "match.");
        }

        var order = TopologicalOrder(heads);
        if (order.Count == 0 && heads.All(h => h.Node!.IsVariable && h.Node.GradReq == GradReq.Null))
            throw new InvalidOperationException("There are no inputs in computation graph that require gradients.");

        // Gradients flowing into each entry's outputs, and into variables.
        var outGrads = new Dictionary<TapeEntry, NDArray?[]>(ReferenceEqualityComparer.Instance);
        var varGrads = new Dictionary<AutogradNode, NDArray>(ReferenceEqualityComparer.Instance);
        using var mode = createGraph ? Record(IsTraining) : Pause(IsTraining);
        for (int i = 0; i < heads.Count; i++)
        {
            var h = heads[i];
            var g = headGradients?[i] is { } given ? given.Detach() : Nd.OnesLike(h);
            Accumulate(h.Node!, g, outGrads, varGrads);
        }

        var required = RequiredEntries(order, wanted);
        for (int k = order.Count - 1; k >= 0; k--)
        {
            var entry = order[k];
            if (!outGrads.TryGetValue(entry, out var gOut)) continue;
            outGrads.Remove(entry);
            CheckVersions(entry);
            var outputs = entry.Outputs.ToArray();
            var grads = new NDArray[outputs.Length];
            for (int j = 0; j < grads.Length; j++) grads[j] = gOut[j] ?? Nd.ZerosLike(outputs[j]);
            var need = entry.InputNodes.Select(n => n is not null && (n.IsVariable
                ? n.GradReq != GradReq.Null || wanted?.Contains(n) == true
                : required.Contains(n.Producer!))).ToArray();
            var inGrads = RunRule(entry, outputs, grads, need);
            // A rule may pass an output gradient straight through (add, reshape), even to two inputs: give each
            // use its own view so that disposing one never frees another.
            var seen = new HashSet<NDArray>(grads, ReferenceEqualityComparer.Instance);
            for (int i = 0; i < inGrads.Length; i++)
            {
                if (inGrads[i] is { } gi && !seen.Add(gi)) inGrads[i] = gi.AliasInGraph();
            }
            if (!createGraph)
            {
                foreach (var g in grads) g.Dispose();
            }
            for (int i = 0; i < inGrads.Length; i++)
            {
                var node = entry.InputNodes[i];
                if (inGrads[i] is not { } gi) continue;
                if (node is null || !need[i])
                {
                    gi.Dispose();
                    continue;
                }
                if (gi.Shape != entry.Inputs[i].Shape)
                    throw new InvalidOperationException(
                        $"{entry.Op.Name}: the gradient rule returned shape {gi.Shape} for input {i} of shape " +
                        $"{entry.Inputs[i].Shape}; this is a bug in the operator's gradient.");
                Accumulate(node, gi, outGrads, varGrads);
            }
        }
        if (!retainGraph)
        {
            foreach (var e in order) e.Release();
        }
        if (wanted is not null)
        {
            foreach (var node in varGrads.Keys.Where(n => !wanted.Contains(n)).ToList())
            {
                varGrads[node].Dispose();
                varGrads.Remove(node);
            }
        }
        return varGrads;
    }

    /// <summary>Runs an entry's gradient rule, disposing its temporaries and keeping only its results.</summary>
    private static NDArray?[] RunRule(TapeEntry entry, NDArray[] outputs, NDArray[] grads, bool[] need)
    {
        using var scope = NDArray.Scope();
        var result = entry.Op.InvokeGradient(entry.Attrs, entry.Inputs.ToArray(), outputs, grads, need);
        foreach (var g in result)
        {
            if (g is not null) scope.Keep(g);
        }
        return result;
    }

    private static void Accumulate(AutogradNode node, NDArray g, Dictionary<TapeEntry, NDArray?[]> outGrads,
        Dictionary<AutogradNode, NDArray> varGrads)
    {
        if (node.IsVariable)
        {
            varGrads[node] = varGrads.TryGetValue(node, out var prev) ? AddAndDispose(prev, g) : g;
            return;
        }
        var entry = node.Producer!;
        if (!outGrads.TryGetValue(entry, out var slots))
            outGrads[entry] = slots = new NDArray?[entry.Outputs.Count];
        var old = slots[node.OutputIndex];
        slots[node.OutputIndex] = old is null ? g : AddAndDispose(old, g);
    }

    private static NDArray AddAndDispose(NDArray a, NDArray b)
    {
        var sum = a + b;
        if (!IsRecording)
        {
            a.Dispose();
            b.Dispose();
        }
        return sum;
    }

    /// <summary>Entries reachable from the heads, inputs before users; throws if one was already freed.</summary>
    private static List<TapeEntry> TopologicalOrder(IReadOnlyList<NDArray> heads)
    {
        var order = new List<TapeEntry>();
        var visited = new HashSet<TapeEntry>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(TapeEntry Entry, int Next)>();
        foreach (var h in heads)
        {
            if (h.Node?.Producer is not { } root || !visited.Add(root)) continue;
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (entry, next) = stack.Pop();
                if (entry.Released)
                    throw new InvalidOperationException(
                        $"Cannot differentiate node because it is not in a computational graph: the graph through " +
                        $"'{entry.Op.Name}' was freed by an earlier backward. If you want to differentiate the " +
                        "same graph twice, you need to pass retainGraph: true to Backward.");
                if (next < entry.InputNodes.Length)
                {
                    stack.Push((entry, next + 1));
                    if (entry.InputNodes[next]?.Producer is { } p && visited.Add(p)) stack.Push((p, 0));
                }
                else
                {
                    order.Add(entry);
                }
            }
        }
        return order;
    }

    /// <summary>Entries that lead to at least one variable wanting a gradient.</summary>
    private static HashSet<TapeEntry> RequiredEntries(List<TapeEntry> order, HashSet<AutogradNode>? wanted)
    {
        var required = new HashSet<TapeEntry>(ReferenceEqualityComparer.Instance);
        foreach (var e in order)
        {
            foreach (var n in e.InputNodes)
            {
                if (n is null) continue;
                if (n.IsVariable ? n.GradReq != GradReq.Null || wanted?.Contains(n) == true
                        : required.Contains(n.Producer!))
                {
                    required.Add(e);
                    break;
                }
            }
        }
        return required;
    }

    private static void CheckVersions(TapeEntry entry)
    {
        for (int i = 0; i < entry.Inputs.Count; i++)
        {
            if (entry.Inputs[i].HasData && entry.Inputs[i].Storage.Version != entry.InputVersions[i])
                throw new InvalidOperationException(
                    $"{entry.Op.Name}: input {i} (shape {entry.Inputs[i].Shape}) was modified in place after it " +
                    "was recorded, so its gradient would be wrong. Assigning to NDArrays that are already in a " +
                    "computational graph is not supported inside Autograd.Record(); write into a copy instead.");
        }
    }
}
