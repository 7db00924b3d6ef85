using Engine.Backends;
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
/// An operator, defined once: its name, shape and dtype rule, gradient rule, fusion class, in-place pairs and
/// effects (inputs it mutates, values its gradient keeps, scratch memory, write requests it honours). Kernels are
/// registered on it per device kind by the backends (Engine.Core/Backends). Eager execution, tracing, autograd and
/// the graph passes all read this definition.
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

    /// <summary>
    /// (input, output) pairs whose buffers may be shared: the kernel stays correct when the output is the input's
    /// very buffer and layout. Eager calls with <c>out</c> set to such an input run in place; the memory planner
    /// reuses the input's buffer when nothing else reads it.
    /// </summary>
    public IReadOnlyList<(int Input, int Output)> InPlace { get; }

    /// <summary>Inputs the kernel writes (BatchNorm's running statistics, an optimizer's weight and state).</summary>
    public IReadOnlyList<int> Mutates { get; init; } = [];

    /// <summary>The input and output values the gradient rule reads; the tape keeps only these.</summary>
    public SavedValues Saves { get; init; } = SavedValues.All;

    /// <summary>
    /// Whether the kernels honour <see cref="WriteRequest.AddTo"/>; other ops add through a temporary.
    /// </summary>
    public bool AddTo { get; init; }

    /// <summary>
    /// Whether the kernels write outputs through any layout (a strided view); others get dense outputs.
    /// </summary>
    public bool StridedOutputs { get; init; }

    /// <summary>
    /// The math of an elementwise or broadcast operator (struct operator types per dtype), from which every
    /// backend binds its kernel and which a fusion pass composes; null for other operators.
    /// </summary>
    public ElementwiseMath? Math { get; protected init; }

    public abstract bool HasGradient { get; }

    /// <summary>The device kinds this operator has kernels for (view operators run on every device).</summary>
    public abstract IReadOnlyCollection<DeviceKind> DeviceKinds { get; }

    /// <summary>Whether the output is a view of the input (reshape, transpose, slice): no kernel, no copy.</summary>
    public abstract bool IsView { get; }

    /// <summary>Runs the operator with untyped attributes (graph executors and table-driven tests).</summary>
    public abstract NDArray[] Invoke(OpAttrs attrs, params NDArray[] inputs);

    /// <summary>
    /// Runs the operator into existing arrays (MXNet's <c>out=</c>): overwrite them, or add to them with
    /// <see cref="WriteRequest.AddTo"/>. An output may be an input the op declares in place.
    /// </summary>
    public abstract NDArray[] InvokeInto(OpAttrs attrs, NDArray[] inputs, NDArray[] outputs,
        WriteRequest request = WriteRequest.Write);

    /// <summary>The shape and dtype rule with untyped attributes.</summary>
    public abstract TensorType[] InferTypes(OpAttrs attrs, TensorType[] inputs);

    /// <summary>The most scratch bytes a kernel may take from its context for these inputs.</summary>
    public abstract long ScratchBytes(OpAttrs attrs, TensorType[] inputs);

    /// <summary>Runs the gradient rule with untyped attributes (the tape and the graph pass call this).</summary>
    internal abstract NDArray?[] InvokeGradient(OpAttrs attrs, NDArray[] inputs, NDArray[] outputs,
        NDArray[] outputGradients, bool[] required);

    /// <summary>
    /// Registers, for one device kind, the kernel that runs <see cref="Math"/> on a backend's driver.
    /// </summary>
    internal abstract void BindElementwise(DeviceKind kind, IElementwiseDriver driver);

    /// <summary>
    /// The kernel for <paramref name="device"/> with its attributes resolved once (the graph executor's prepared
    /// launch): no look-up or cast is left for the call. Not for view operators, which run no kernel.
    /// </summary>
    internal abstract BoundKernel Bind(OpAttrs attrs, Device device);

    /// <summary>
    /// For view operators: the layout the view has over an input laid out as <paramref name="input"/>, found by
    /// applying the view to a stand-in with no data; null when the view would need a dense copy first (a reshape of
    /// a transposed input).
    /// </summary>
    internal abstract TensorLayout? ViewLayout(OpAttrs attrs, TensorLayout input, DType dtype, TensorType output);

    public override string ToString() => Name;
}

/// <summary>The values of a recorded call that an operator's gradient reads: which inputs, which outputs.</summary>
public sealed class SavedValues
{
    private readonly int[]? inputs, outputs;

    private SavedValues(int[]? inputs, int[]? outputs)
    {
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /// <summary>Every input and output (the safe default).</summary>
    public static SavedValues All { get; } = new(null, null);

    /// <summary>Nothing but shapes (add, subtract, negative: the gradient only routes dy).</summary>
    public static SavedValues Nothing { get; } = new([], []);

    public static SavedValues Of(int[] inputs, int[] outputs) => new(inputs, outputs);

    public static SavedValues Inputs(params int[] inputs) => new(inputs, []);

    public static SavedValues Outputs(params int[] outputs) => new([], outputs);

    public bool Input(int index) => inputs is null || inputs.Contains(index);

    public bool Output(int index) => outputs is null || outputs.Contains(index);

    public override string ToString() =>
        $"inputs {(inputs is null ? "all" : $"[{string.Join(", ", inputs)}]")}, " +
        $"outputs {(outputs is null ? "all" : $"[{string.Join(", ", outputs)}]")}";
}

public delegate TensorType[] ShapeRule<in TAttrs>(TAttrs attrs, TensorType[] inputs);

/// <summary>
/// A kernel as a backend registers it: attributes, the context (runtime, write requests, scratch) and the tensors.
/// Outputs are dense unless the operator declares <see cref="OpDef.StridedOutputs"/>.
/// </summary>
public delegate void Kernel<in TAttrs>(TAttrs attrs, KernelContext context, TensorArg[] inputs, TensorArg[] outputs);

/// <summary>
/// Gradient of an operator: given the attributes, inputs, outputs and the gradients of the outputs, returns the
/// gradient of each input (null where an input gets none), written with NDArray operations so that it can be
/// recorded (higher-order gradients) and traced into graphs. Temporaries need no disposal: the caller runs the
/// rule inside a scope and keeps only the results.
/// </summary>
/// <remarks><paramref name="required"/>[i] is false when input i needs no gradient; the rule may return null
/// there and skip the work (a network's input data, labels). Values the operator does not declare in
/// <see cref="OpDef.Saves"/> arrive as shape-only arrays: reading their data is an error.</remarks>
public delegate NDArray?[] GradientRule<in TAttrs>(TAttrs attrs, NDArray[] inputs, NDArray[] outputs,
    NDArray[] outputGradients, bool[] required);

/// <summary>Produces an operator's output as a view of its input (reshape, transpose, slice): no copy.</summary>
public delegate NDArray ViewKernel<in TAttrs>(TAttrs attrs, NDArray input, TensorType output);

/// <summary>Scratch bytes a kernel may need for given inputs.</summary>
public delegate long ScratchRule<in TAttrs>(TAttrs attrs, TensorType[] inputs);

public sealed class OpDef<TAttrs> : OpDef where TAttrs : OpAttrs
{
    private readonly Dictionary<DeviceKind, Kernel<TAttrs>> kernels = new();

    /// <summary>The kernels by device kind as an array: the eager path's lookup is one load, not a hash.</summary>
    private volatile Kernel<TAttrs>?[] byKind = [];

    /// <summary>An operator whose output is a view of its single input, on every device.</summary>
    public OpDef(string name, ShapeRule<TAttrs> inferType, ViewKernel<TAttrs> view,
        GradientRule<TAttrs>? gradient = null)
        : base(name, 1, 1, FusionClass.Injective, [])
    {
        InferType = inferType;
        View = view;
        Gradient = gradient;
        Saves = SavedValues.Nothing;
    }

    /// <summary>An operator whose kernels the backends register.</summary>
    public OpDef(string name, int inputs, int outputs, ShapeRule<TAttrs> inferType,
        FusionClass fusion = FusionClass.Opaque, GradientRule<TAttrs>? gradient = null,
        (int Input, int Output)[]? inPlace = null)
        : base(name, inputs, outputs, fusion, inPlace ?? [])
    {
        InferType = inferType;
        Gradient = gradient;
    }

    /// <summary>An elementwise or broadcast operator defined by its math.</summary>
    public OpDef(string name, ShapeRule<TAttrs> inferType, ElementwiseMath<TAttrs> math, FusionClass fusion,
        GradientRule<TAttrs>? gradient = null, (int Input, int Output)[]? inPlace = null)
        : this(name, math.Arity, 1, inferType, fusion, gradient, inPlace)
    {
        Math = math;
        Scratch = static (_, _) => 0;
    }

    /// <summary>Set for view operators: the output shares the input's buffer.</summary>
    public ViewKernel<TAttrs>? View { get; }

    public override bool IsView => View is not null;

    public ShapeRule<TAttrs> InferType { get; }

    /// <summary>The gradient rule; null for operators that are not differentiable.</summary>
    public GradientRule<TAttrs>? Gradient { get; internal set; }

    /// <summary>Scratch bytes the kernels may take; by default room for a dense copy of every input.</summary>
    public ScratchRule<TAttrs> Scratch { get; init; } =
        static (_, t) => t.Sum(x => x.Shape.Size * x.DType.SizeInBytes());

    public override bool HasGradient => Gradient is not null;

    public override TensorType[] InferTypes(OpAttrs attrs, TensorType[] inputs) => InferType(Typed(attrs), inputs);

    public override long ScratchBytes(OpAttrs attrs, TensorType[] inputs) => Scratch(Typed(attrs), inputs);

    internal override NDArray?[] InvokeGradient(OpAttrs attrs, NDArray[] inputs, NDArray[] outputs,
        NDArray[] outputGradients, bool[] required)
    {
        if (Gradient is null)
            throw new InvalidOperationException($"{Name}: this operator is not differentiable.");
        return Gradient((TAttrs)attrs, inputs, outputs, outputGradients, required);
    }

    public override IReadOnlyCollection<DeviceKind> DeviceKinds
    {
        get
        {
            BackendRegistry.EnsureRegistered();
            return View is null ? kernels.Keys : BackendRegistry.All.SelectMany(b => b.DeviceKinds).ToArray();
        }
    }

    /// <summary>Registers the kernel for one device kind; a backend calls this once per kind it serves.</summary>
    public void Register(DeviceKind kind, Kernel<TAttrs> kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (View is not null)
            throw new InvalidOperationException($"{Name}: a view operator takes no kernels.");
        lock (kernels)
        {
            if (!kernels.TryAdd(kind, kernel))
                throw new InvalidOperationException($"{Name}: a kernel for {kind} is already registered.");
            var table = new Kernel<TAttrs>?[System.Math.Max(byKind.Length, (int)kind + 1)];
            byKind.CopyTo(table, 0);
            table[(int)kind] = kernel;
            byKind = table;
        }
    }

    internal override void BindElementwise(DeviceKind kind, IElementwiseDriver driver)
    {
        if (Math is not ElementwiseMath<TAttrs> math)
            throw new InvalidOperationException($"{Name}: not an elementwise operator.");
        Register(kind, (a, c, i, o) => math.Run(driver, a, c, i, o));
    }

    internal override BoundKernel Bind(OpAttrs attrs, Device device) =>
        new BoundKernel<TAttrs>(this, KernelFor(device), Typed(attrs));

    internal override TensorLayout? ViewLayout(OpAttrs attrs, TensorLayout input, DType dtype, TensorType output)
    {
        if (View is null) throw new InvalidOperationException($"{Name}: not a view operator.");
        using var root = NDArray.ShapeOnly(input.Shape, dtype, Device.Cpu, $"{Name}: a layout stand-in");
        using var standIn = root.View(input.Shape, input.Strides, input.Offset, track: false);
        NDArray view;
        try
        {
            view = View(Typed(attrs), standIn, output);
        }
        catch (InvalidOperationException)
        {
            return null;   // the view copies (it read the stand-in's missing data)
        }
        using (view)
        {
            return ReferenceEquals(view.Storage, root.Storage) ? view.Layout : null;
        }
    }

    public Kernel<TAttrs> KernelFor(Device device)
    {
        BackendRegistry.EnsureRegistered();
        var table = byKind;
        int kind = (int)device.Kind;
        if ((uint)kind < (uint)table.Length && table[kind] is { } kernel) return kernel;
        return kernels.TryGetValue(device.Kind, out var k) ? k : throw new NotSupportedException(
            $"{Name}: no kernel for {device}; this operator runs on {string.Join(", ", kernels.Keys)}. " +
            "Move the inputs with CopyTo(Device.Cpu).");
    }

    /// <summary>Runs the operator eagerly (and records it when autograd is recording).</summary>
    public NDArray[] Invoke(TAttrs attrs, params NDArray[] inputs) => Imperative.Invoke(this, attrs, inputs);

    public override NDArray[] Invoke(OpAttrs attrs, params NDArray[] inputs) => Invoke(Typed(attrs), inputs);

    public override NDArray[] InvokeInto(OpAttrs attrs, NDArray[] inputs, NDArray[] outputs,
        WriteRequest request = WriteRequest.Write)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return Imperative.Invoke(this, Typed(attrs), inputs, outputs, request);
    }

    /// <summary>Runs a single-output operator.</summary>
    public NDArray Call(TAttrs attrs, params NDArray[] inputs) => Imperative.Invoke(this, attrs, inputs)[0];

    private TAttrs Typed(OpAttrs attrs) => attrs as TAttrs ?? throw new ArgumentException(
        $"{Name}: expects attributes of type {typeof(TAttrs).Name}, got {attrs?.GetType().Name ?? "null"}.");
}
