using Engine.Ops;

namespace Engine.Graphs;

/// <summary>What a graph node is: an operator application or one of the graph's variables.</summary>
public enum NodeKind
{
    /// <summary>An operator applied to other nodes' outputs.</summary>
    Op,

    /// <summary>A graph input (MXNet's data variables).</summary>
    Input,

    /// <summary>A parameter the caller binds at run time (weights; auxiliary states when an op mutates them).</summary>
    Parameter,

    /// <summary>A value captured while tracing (an array created outside the graph and used in it).</summary>
    Constant,
}

/// <summary>One output of a node: the (node, output index) pairs graph edges are made of.</summary>
public readonly record struct NodeOutput(Node Node, int Index)
{
    public TensorType Type => Node.OutputTypes[Index];

    public override string ToString() => Node.NumOutputs == 1 ? Node.Name : $"{Node.Name}[{Index}]";
}

/// <summary>
/// A node of the graph IR: an operator with its typed attributes and inputs, or a variable. Output types are known
/// from tracing (or shape inference); nodes are immutable once the graph is built, passes make new ones.
/// </summary>
public sealed class Node
{
    private Node(NodeKind kind, string name, OpDef? op, OpAttrs? attrs, NodeOutput[] inputs, TensorType[] types)
    {
        Kind = kind;
        Name = name;
        Op = op;
        Attrs = attrs;
        Inputs = inputs;
        OutputTypes = types;
    }

    public NodeKind Kind { get; }

    /// <summary>Unique within its graph (MXNet style: <c>dense0_fwd</c>, <c>data</c>, <c>dense0_weight</c>).</summary>
    public string Name { get; internal set; }

    public OpDef? Op { get; }

    public OpAttrs? Attrs { get; }

    public IReadOnlyList<NodeOutput> Inputs { get; }

    public TensorType[] OutputTypes { get; internal set; }

    public int NumOutputs => OutputTypes.Length;

    /// <summary>For constants: the captured value (the graph owns this view).</summary>
    public NDArray? Value { get; private init; }

    /// <summary>For parameters: what the caller binds (a Gluon Parameter); opaque to the core.</summary>
    public object? Binding { get; private init; }

    public bool IsVariable => Kind != NodeKind.Op;

    public NodeOutput this[int index] => new(this, index);

    public static Node Apply(string name, OpDef op, OpAttrs attrs, NodeOutput[] inputs, TensorType[] types) =>
        new(NodeKind.Op, name, op, attrs, inputs, types);

    public static Node Input(string name, TensorType type) => new(NodeKind.Input, name, null, null, [], [type]);

    public static Node Parameter(string name, TensorType type, object? binding) =>
        new(NodeKind.Parameter, name, null, null, [], [type]) { Binding = binding };

    public static Node Constant(string name, NDArray value) =>
        new(NodeKind.Constant, name, null, null, [], [new TensorType(value.Shape, value.DType)]) { Value = value };

    public override string ToString() => Name;
}
