using Engine.Kernels;

namespace Engine.Ops;

/// <summary>The shape and element type of an operator's input or output.</summary>
public readonly record struct TensorType(Shape Shape, DType DType)
{
    public override string ToString() => $"{DType.Name()}{Shape}";
}

/// <summary>How an operator may be fused with its neighbours by the graph compiler.</summary>
public enum FusionClass
{
    /// <summary>Same-shape elementwise: fuses freely.</summary>
    Elementwise,

    /// <summary>Elementwise with NumPy broadcasting.</summary>
    Broadcast,

    /// <summary>Moves or selects elements (reshape, transpose, slice): fusable as a group's input.</summary>
    Injective,

    /// <summary>Reduces axes: may end a fused group.</summary>
    Reduction,

    /// <summary>Never fused (GEMM, convolution, pooling, normalisation).</summary>
    Opaque,
}

/// <summary>
/// An operator, defined once: its name, typed attributes, shape and dtype rule, kernels per device kind,
/// gradient rule, fusion class and in-place pairs. Eager execution, tracing, autograd and the graph passes
/// all read this definition.
/// </summary>
public abstract class OpDef
{
    protected OpDef(string name, int inputs, int outputs, FusionClass fusion, (int Input, int Output)[] inPlace)
    {
        Name = name;
        NumInputs = inputs;
        NumOutputs = outputs;
        Fusion = fusion;
        InPlace = inPlace;
    }

    /// <summary>The operator's name, lower case as in error messages ("conv2d", "add").</summary>
    public string Name { get; }

    /// <summary>Number of inputs, or -1 for a variable count (concat).</summary>
    public int NumInputs { get; }

    public int NumOutputs { get; }

    public FusionClass Fusion { get; }

    /// <summary>(input, output) pairs whose buffers may be shared: the output may overwrite the input.</summary>
    public IReadOnlyList<(int Input, int Output)> InPlace { get; }

    public abstract bool HasGradient { get; }

    /// <summary>Runs the operator with untyped attributes (graph executors and table-driven tests).</summary>
    public abstract NDArray[] Invoke(OpAttrs attrs, params NDArray[] inputs);

    /// <summary>Runs the gradient rule with untyped attributes (the tape and the graph pass call this).</summary>
    internal abstract NDArray?[] InvokeGradient(OpAttrs attrs, NDArray[] inputs, NDArray[] outputs,
        NDArray[] outputGradients, bool[] required);

    public abstract IReadOnlyCollection<DeviceKind> DeviceKinds { get; }

    public override string ToString() => Name;
}

public delegate TensorType[] ShapeRule<in TAttrs>(TAttrs attrs, TensorType[] inputs);

public delegate void Kernel<in TAttrs>(TAttrs attrs, NDArray[] inputs, NDArray[] outputs);

/// <summary>
/// Gradient of an operator: given the attributes, inputs, outputs and the gradients of the outputs, returns the
/// gradient of each input (null where an input gets none), written with NDArray operations so that it can be
/// recorded (higher-order gradients) and traced into graphs.
/// </summary>
/// <remarks><paramref name="required"/>[i] is false when input i needs no gradient; the rule may return null
/// there and skip the work (a network's input data, labels).</remarks>
public delegate NDArray?[] GradientRule<in TAttrs>(TAttrs attrs, NDArray[] inputs, NDArray[] outputs,
    NDArray[] outputGradients, bool[] required);

/// <summary>Produces an operator's output as a view of its input (reshape, transpose, slice): no copy.</summary>
public delegate NDArray ViewKernel<in TAttrs>(TAttrs attrs, NDArray input, TensorType output);

public sealed class OpDef<TAttrs> : OpDef where TAttrs : OpAttrs
{
    private readonly Dictionary<DeviceKind, Kernel<TAttrs>> kernels;

    /// <summary>An operator whose output is a view of its single input, on every device.</summary>
    public OpDef(string name, ShapeRule<TAttrs> inferType, ViewKernel<TAttrs> view,
        GradientRule<TAttrs>? gradient = null)
        : base(name, 1, 1, FusionClass.Injective, [])
    {
        InferType = inferType;
        kernels = new Dictionary<DeviceKind, Kernel<TAttrs>>();
        View = view;
        Gradient = gradient;
    }

    /// <summary>Set for view operators: the output shares the input's buffer.</summary>
    public ViewKernel<TAttrs>? View { get; }

    public OpDef(string name, int inputs, int outputs, ShapeRule<TAttrs> inferType,
        IReadOnlyDictionary<DeviceKind, Kernel<TAttrs>> kernels, FusionClass fusion = FusionClass.Opaque,
        GradientRule<TAttrs>? gradient = null, (int Input, int Output)[]? inPlace = null)
        : base(name, inputs, outputs, fusion, inPlace ?? [])
    {
        InferType = inferType;
        this.kernels = new Dictionary<DeviceKind, Kernel<TAttrs>>(kernels);
        Gradient = gradient;
    }

    public ShapeRule<TAttrs> InferType { get; }

    /// <summary>The gradient rule; null for operators that are not differentiable.</summary>
    public GradientRule<TAttrs>? Gradient { get; internal set; }

    public override bool HasGradient => Gradient is not null;

    internal override NDArray?[] InvokeGradient(OpAttrs attrs, NDArray[] inputs, NDArray[] outputs,
        NDArray[] outputGradients, bool[] required)
    {
        if (Gradient is null)
            throw new InvalidOperationException($"{Name}: this operator is not differentiable.");
        return Gradient((TAttrs)attrs, inputs, outputs, outputGradients, required);
    }

    public override IReadOnlyCollection<DeviceKind> DeviceKinds =>
        View is null ? kernels.Keys : [DeviceKind.Cpu, DeviceKind.Cuda];

    public Kernel<TAttrs> KernelFor(Device device) =>
        kernels.TryGetValue(device.Kind, out var k) ? k : throw new NotSupportedException(
            $"{Name}: no kernel for {device}; this operator runs on {string.Join(", ", kernels.Keys)}. " +
            "Move the inputs with CopyTo(Device.Cpu).");

    /// <summary>Runs the operator eagerly (and records it when autograd is recording).</summary>
    public NDArray[] Invoke(TAttrs attrs, params NDArray[] inputs) => Imperative.Invoke(this, attrs, inputs);

    public override NDArray[] Invoke(OpAttrs attrs, params NDArray[] inputs) =>
        attrs is TAttrs typed ? Invoke(typed, inputs) : throw new ArgumentException(
            $"{Name}: expects attributes of type {typeof(TAttrs).Name}, got {attrs.GetType().Name}.");

    /// <summary>Runs a single-output operator.</summary>
    public NDArray Call(TAttrs attrs, params NDArray[] inputs) => Imperative.Invoke(this, attrs, inputs)[0];
}
