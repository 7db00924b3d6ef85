using Engine.Kernels;
using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// A prepared kernel launch of a compiled graph: the kernel bound to its device and attributes, where each input
/// and output lives, the write request of each output (in place where the plan put it over its input), the inputs
/// it mutates, and the most scratch it may take. A call only binds buffers and runs these in order.
/// </summary>
internal sealed class Launch
{
    public Launch(Node node, BoundKernel kernel, ValueSlot[] inputs, ValueSlot[] outputs, WriteRequest[] requests,
        long scratchLimit)
    {
        Node = node;
        Kernel = kernel;
        Inputs = inputs;
        Outputs = outputs;
        Requests = requests;
        ScratchLimit = scratchLimit;
        Mutates = node.Op!.Mutates.ToArray();
        PerCall = node.Attrs as IPerCallAttributes;
        InputTypes = inputs.Select(i => i.Type).ToArray();
    }

    public Node Node { get; }

    public BoundKernel Kernel { get; }

    public ValueSlot[] Inputs { get; }

    public ValueSlot[] Outputs { get; }

    public WriteRequest[] Requests { get; }

    /// <summary>Scratch bytes the operator declares for these inputs (computed once, checked after each run).</summary>
    public long ScratchLimit { get; }

    public int[] Mutates { get; }

    /// <summary>Set when the attributes are drawn afresh per call (dropout's random counters).</summary>
    public IPerCallAttributes? PerCall { get; }

    public TensorType[] InputTypes { get; }

    public override string ToString()
    {
        string requests = Requests.Any(r => r == WriteRequest.InPlace) ? " in place" : "";
        return $"{Node.Name}: {Kernel.Op.Name}({string.Join(", ", Inputs.Select(Describe))}) -> " +
               $"{string.Join(", ", Outputs.Select(Describe))}{requests}";
    }

    private static string Describe(ValueSlot v) => v.Source switch
    {
        ValueSource.Arena => $"buffer {v.Index}",
        ValueSource.Owned => "own",
        _ => v.Name,
    };
}
