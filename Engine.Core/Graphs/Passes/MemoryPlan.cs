using System.Text;

namespace Engine.Graphs.Passes;

/// <summary>
/// A memory plan for a graph: which storage each operator output lives in, found by liveness over the topological
/// order. An output takes over an input's storage in place when the operator declares that pair and nothing reads
/// the input later; otherwise it takes the smallest freed storage that fits (and is at most a bound times larger:
/// the plan is made with several bounds and the smallest kept), else the largest freed one grown to fit, else a new
/// one. View operators share
/// their input's storage. Graph inputs, parameters, constants and outputs are never reused.
/// </summary>
public sealed class MemoryPlan
{
    private readonly Dictionary<NodeOutput, int> storageOf = new();
    private readonly List<long> storageBytes = [];

    private MemoryPlan(Graph graph, IReadOnlyList<Node> order)
    {
        Graph = graph;
        Order = order;
    }

    public Graph Graph { get; }

    /// <summary>The order the operators run in (the graph's topological order unless another was given).</summary>
    public IReadOnlyList<Node> Order { get; }

    /// <summary>Bytes of storage <paramref name="storage"/>.</summary>
    public long StorageBytes(int storage) => storageBytes[storage];

    /// <summary>Bytes of every storage the plan allocates (what one arena for the graph needs).</summary>
    public long PlannedBytes => storageBytes.Sum();

    /// <summary>Bytes of every operator output allocated on its own (what eager execution allocates).</summary>
    public long UnplannedBytes { get; private set; }

    /// <summary>Outputs written over an input's buffer.</summary>
    public int InPlaceCount { get; private set; }

    public int StorageCount => storageBytes.Count;

    /// <summary>Planned bytes as a fraction of the unplanned total.</summary>
    public double Ratio => UnplannedBytes == 0 ? 1 : (double)PlannedBytes / UnplannedBytes;

    /// <summary>The storage of an operator output (-1 for graph variables and graph outputs, never shared).</summary>
    public int StorageOf(NodeOutput value) => storageOf.GetValueOrDefault(value, -1);

    /// <summary>
    /// Plans <paramref name="graph"/> for running its nodes in <paramref name="executionOrder"/> (a topological
    /// order; the graph's own when null). A training graph runs its forward part first and its backward part
    /// after, so a forward value the backward reads lives until its last backward reader.
    /// </summary>
    public static MemoryPlan For(Graph graph, IReadOnlyList<Node>? executionOrder = null)
    {
        var nodes = executionOrder ?? graph.Nodes;
        // Best fit alone can hand a large freed buffer to a small value that then lives long, so that the next
        // large value needs a storage of its own (LeNet's training step: a 123 KB value kept the freed 3.5 MB
        // convolution output). Bounding how much larger than the value a reused storage may be avoids that and
        // costs elsewhere, so the plan is made with each bound and the smallest kept (planning is cheap, and
        // done once per graph).
        MemoryPlan? best = null;
        foreach (long range in ReuseRanges)
        {
            var plan = Plan(graph, nodes, range);
            if (best is null || plan.PlannedBytes < best.PlannedBytes) best = plan;
        }
        return best!;
    }

    /// <summary>
    /// How many times larger than a value a freed storage it reuses may be: unbounded (plain best fit), then the
    /// bounds tried besides (MXNet's planner uses 16).
    /// </summary>
    private static readonly long[] ReuseRanges = [long.MaxValue, 16, 8, 4];

    private static MemoryPlan Plan(Graph graph, IReadOnlyList<Node> nodes, long reuseRange)
    {
        var plan = new MemoryPlan(graph, nodes);
        var order = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (var n in nodes) order[n] = order.Count;
        var lastUse = new Dictionary<NodeOutput, int>();
        foreach (var n in nodes)
        {
            foreach (var i in n.Inputs) lastUse[i] = order[n];
        }
        // Outputs get their own arrays; so does what an output is a view of (the caller receives that view).
        var pinned = new HashSet<NodeOutput>();
        foreach (var o in graph.Outputs)
        {
            var value = o;
            pinned.Add(value);
            while (value.Node.Op is { IsView: true }) pinned.Add(value = value.Node.Inputs[0]);
        }
        var free = new List<int>();
        var readers = new Dictionary<int, int>();   // storage -> values still alive in it
        foreach (var n in nodes)
        {
            if (n.Kind != NodeKind.Op) continue;
            int at = order[n];
            var consumed = new HashSet<NodeOutput>();   // inputs whose buffer an output took over in place
            var unread = new List<NodeOutput>();        // outputs nothing reads: freed once every output has a place
            for (int o = 0; o < n.NumOutputs; o++)
            {
                var value = n[o];
                long bytes = n.OutputTypes[o].Shape.Size * n.OutputTypes[o].DType.SizeInBytes();
                plan.UnplannedBytes += n.Op!.IsView ? 0 : bytes;
                if (pinned.Contains(value)) continue;
                int storage = -1;
                if (n.Op.IsView)
                {
                    storage = plan.StorageOf(n.Inputs[0]);
                    if (storage < 0) continue;   // a view of a variable or an output: nothing to plan
                }
                else
                {
                    foreach (var (i, output) in n.Op.InPlace)
                    {
                        if (output != o || i >= n.Inputs.Count) continue;
                        var input = n.Inputs[i];
                        int s = plan.StorageOf(input);
                        long inputBytes = input.Type.Shape.Size * input.Type.DType.SizeInBytes();
                        if (s < 0 || lastUse[input] != at || readers[s] != 1 || inputBytes != bytes) continue;
                        // A view may read its buffer with other strides than the dense output is written with.
                        if (input.Node.Op is { IsView: true }) continue;
                        if (n.Inputs.Count(x => x == input) > 1) continue;
                        storage = s;
                        plan.InPlaceCount++;
                        readers[s]--;
                        consumed.Add(input);
                        break;
                    }
                    if (storage < 0)
                    {
                        int best = -1;
                        foreach (int s in free)
                        {
                            long size = plan.storageBytes[s];
                            if (size >= bytes && size / reuseRange <= bytes
                                && (best < 0 || size < plan.storageBytes[best]))
                                best = s;
                        }
                        // None fits: the largest free one smaller than the value grows (the arena is laid out
                        // after planning), which costs less than a new storage of the whole size. A free one too
                        // large for the bound is left for a larger value.
                        if (best < 0)
                        {
                            foreach (int s in free)
                            {
                                long size = plan.storageBytes[s];
                                if (size < bytes && (best < 0 || size > plan.storageBytes[best])) best = s;
                            }
                            if (best >= 0) plan.storageBytes[best] = bytes;
                        }
                        if (best >= 0)
                        {
                            free.Remove(best);
                            storage = best;
                        }
                        else
                        {
                            storage = plan.storageBytes.Count;
                            plan.storageBytes.Add(bytes);
                        }
                    }
                }
                plan.storageOf[value] = storage;
                readers[storage] = readers.GetValueOrDefault(storage) + 1;
                if (!lastUse.ContainsKey(value)) unread.Add(value);
            }
            // Released only now: two outputs of one kernel must not share a buffer, even one nobody reads.
            foreach (var value in unread) Release(value);
            foreach (var input in n.Inputs.Distinct())
            {
                if (lastUse[input] == at && !consumed.Contains(input)) Release(input);
            }
        }
        return plan;

        void Release(NodeOutput value)
        {
            int s = plan.StorageOf(value);
            if (s < 0) return;
            if (--readers[s] == 0) free.Add(s);
        }
    }

    /// <summary>
    /// Replays the plan and throws if any operator would read a value whose buffer another value took over before
    /// that read (the check that planned buffers are never read after being overwritten).
    /// </summary>
    public void Verify()
    {
        var holds = new Dictionary<int, HashSet<NodeOutput>>();
        foreach (var n in Order)
        {
            if (n.Kind != NodeKind.Op) continue;
            foreach (var input in n.Inputs)
            {
                int s = StorageOf(input);
                if (s >= 0 && !holds[s].Contains(input))
                    throw new InvalidOperationException(
                        $"memory plan: {n.Name} reads {input} from buffer {s}, which another value has overwritten.");
            }
            for (int o = 0; o < n.NumOutputs; o++)
            {
                int s = StorageOf(n[o]);
                if (s < 0) continue;
                if (!holds.TryGetValue(s, out var set)) holds[s] = set = [];
                bool view = n.Op!.IsView;
                var inPlace = n.Inputs.Where(i => StorageOf(i) == s).ToList();
                if (!view)
                {
                    // A write into the buffer ends every value held there: only an in-place input may be among them.
                    foreach (var old in set.ToList())
                    {
                        if (!inPlace.Contains(old) && IsReadLater(old, n))
                            throw new InvalidOperationException(
                                $"memory plan: {n[o]} overwrites buffer {s} while {old} is still to be read.");
                        set.Remove(old);
                    }
                }
                set.Add(n[o]);
            }
        }
    }

    private bool IsReadLater(NodeOutput value, Node writer)
    {
        bool after = false;
        foreach (var n in Order)
        {
            if (ReferenceEquals(n, writer))
            {
                after = true;
                continue;
            }
            if (after && n.Inputs.Contains(value)) return true;
        }
        return false;
    }

    /// <summary>Puts <paramref name="value"/> in <paramref name="storage"/> (tests: a deliberately wrong plan).
    /// </summary>
    internal void Override(NodeOutput value, int storage) => storageOf[value] = storage;

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"memory plan: peak {PlannedBytes:N0} bytes planned against {UnplannedBytes:N0} unplanned " +
                      $"({Ratio:P0}), {StorageCount} buffers, {InPlaceCount} in place");
        foreach (var n in Graph.Operators)
        {
            for (int o = 0; o < n.NumOutputs; o++)
            {
                int s = StorageOf(n[o]);
                sb.AppendLine($"  {n[o]} -> {(s < 0 ? "own" : $"buffer {s}")}");
            }
        }
        return sb.ToString().TrimEnd();
    }
}
