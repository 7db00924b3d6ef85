using Engine.Ops;

namespace Engine;

/// <summary>
/// Where an array sits in the recorded graph: either a variable (AttachGrad) holding its gradient buffer, or the
/// output <see cref="OutputIndex"/> of a tape entry.
/// </summary>
internal sealed class AutogradNode
{
    private AutogradNode() { }

    public TapeEntry? Producer { get; private init; }

    public int OutputIndex { get; private init; }

    public bool IsVariable => Producer is null;

    public GradReq GradReq { get; set; }

    /// <summary>The variable's gradient buffer (null for grad_req null).</summary>
    public NDArray? Grad { get; set; }

    /// <summary>Set by backward; cleared by the optimizer step (MXNet's fresh_out_grad).</summary>
    public bool FreshGrad { get; set; }

    public static AutogradNode Variable(GradReq req, NDArray? grad) => new() { GradReq = req, Grad = grad };

    public static AutogradNode Output(TapeEntry producer, int index) =>
        new() { Producer = producer, OutputIndex = index };
}

/// <summary>
/// One recorded operation: the op, its attributes, the graph nodes of its inputs, and the values its gradient
/// rule reads (the inputs and outputs the op declares in <see cref="OpDef.Saves"/>, held as views the tape owns;
/// the others as shape-only arrays, so that add keeps nothing alive). A record, not a closure: it can be
/// inspected and turned into a graph.
/// </summary>
public sealed class TapeEntry
{
    internal TapeEntry(OpDef op, OpAttrs attrs, AutogradNode?[] inputNodes, NDArray[] inputs, NDArray[] outputs,
        int[] inputVersions)
    {
        Op = op;
        Attrs = attrs;
        InputNodes = inputNodes;
        Inputs = inputs;
        Outputs = outputs;
        InputVersions = inputVersions;
    }

    public OpDef Op { get; }

    public OpAttrs Attrs { get; }

    internal AutogradNode?[] InputNodes { get; }

    /// <summary>Input values (views owned by the tape; shape-only where the op does not save them).</summary>
    public IReadOnlyList<NDArray> Inputs { get; }

    /// <summary>Output values (views owned by the tape; shape-only where the op does not save them).</summary>
    public IReadOnlyList<NDArray> Outputs { get; }

    internal int[] InputVersions { get; }

    /// <summary>True once backward has freed it (backward without retainGraph).</summary>
    public bool Released { get; private set; }

    internal void Release()
    {
        if (Released) return;
        Released = true;
        (Attrs as IDisposable)?.Dispose();
        foreach (var x in Inputs) x.Dispose();
        foreach (var y in Outputs) y.Dispose();
    }

    public override string ToString() => $"{Op.Name}({string.Join(", ", Inputs.Select(x => x.Shape))})";
}
