namespace Engine.Gluon.Rnn;

/// <summary>
/// A recurrent cell (MXNet's gluon.rnn.HybridRecurrentCell): one time step, <c>(output, states) = cell.Call(x,
/// states)</c>, built from ordinary operators (FullyConnected, elementwise, split), so autograd and hybridize cover
/// it. <see cref="Unroll(int, NDArray, NDArray[], string, bool?)"/> runs it over a sequence.
/// </summary>
public abstract class RecurrentCell : HybridBlock
{
    protected RecurrentCell(string? prefix = null, ParameterDict? @params = null) : base(prefix, @params) { }

    /// <summary>The shapes of the states for a batch: (batch, hidden) per state, in order.</summary>
    public abstract IReadOnlyList<Shape> StateInfo(int batchSize = 0);

    /// <summary>Zero initial states for <paramref name="batchSize"/> rows.</summary>
    public NDArray[] BeginState(int batchSize, Device? device = null, DType dtype = DType.Float32)
    {
        if (batchSize < 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize),
                $"{Name}: batch_size must be non-negative, got {batchSize}.");
        return StateInfo(batchSize).Select(s => Nd.Zeros(s, dtype, device)).ToArray();
    }

    /// <summary>Forgets what earlier steps left (ZoneoutCell's previous output); call between sequences.</summary>
    public virtual void Reset()
    {
        foreach (var (_, child) in Children)
            if (child is RecurrentCell cell) cell.Reset();
    }

    /// <summary>One step: the output and the new states.</summary>
    public (NDArray Output, NDArray[] States) Call(NDArray x, NDArray[] states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var outputs = CallMany([x, .. states]);
        return (outputs[0], outputs[1..]);
    }

    /// <summary>inputs = [x, states...]; returns [output, new states...].</summary>
    public override NDArray[] ForwardMany(NDArray[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0) throw new ArgumentException($"{Name}: needs the step's input.");
        var states = inputs[1..];
        int expected = StateInfo().Count;
        if (states.Length != expected)
            throw new ArgumentException(
                $"{Name}: expects {expected} state array(s), got {states.Length}; use BeginState(batchSize) for " +
                "zeros.");
        var (output, next) = Step(inputs[0], states);
        return [output, .. next];
    }

    /// <summary>The cell's computation for one step.</summary>
    protected abstract (NDArray Output, NDArray[] States) Step(NDArray x, NDArray[] states);

    /// <summary>
    /// Runs the cell for <paramref name="length"/> steps over a merged sequence (layout "NTC" (batch, time,
    /// features) or "TNC"). Returns the outputs, merged into one array of the same layout unless
    /// <paramref name="mergeOutputs"/> is false (then one (batch, features) array per step), and the final states.
    /// Without <paramref name="beginState"/> the states start at zero.
    /// </summary>
    public (NDArray[] Outputs, NDArray[] States) Unroll(int length, NDArray inputs, NDArray[]? beginState = null,
        string layout = "NTC", bool? mergeOutputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int axis = TimeAxis(layout);
        if (inputs.Rank != 3 || inputs.Shape[axis] != length)
            throw new ArgumentException(
                $"{Name}: Unroll of {length} steps in layout {layout} needs a 3-D input with {length} on axis " +
                $"{axis}, got {inputs.Shape}.");
        var steps = length == 1 ? [inputs] : Nd.Split(inputs, length, axis);
        var perStep = steps.Select(s => s.Reshape(s.Shape[axis == 1 ? 0 : 1], s.Shape[2])).ToArray();
        return Unroll(length, perStep, beginState, layout, mergeOutputs ?? true);
    }

    /// <summary>
    /// Runs the cell over one (batch, features) array per step. Outputs stay one per step unless
    /// <paramref name="mergeOutputs"/> is true, which stacks them along the layout's time axis.
    /// </summary>
    public virtual (NDArray[] Outputs, NDArray[] States) Unroll(int length, NDArray[] inputs,
        NDArray[]? beginState = null, string layout = "NTC", bool? mergeOutputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int axis = TimeAxis(layout);
        if (inputs.Length != length)
            throw new ArgumentException($"{Name}: Unroll of {length} steps got {inputs.Length} step inputs.");
        if (length == 0) throw new ArgumentException($"{Name}: Unroll needs at least one step.");
        Reset();
        var states = beginState ?? BeginState(inputs[0].Shape[0], inputs[0].Device, inputs[0].DType);
        var outputs = new NDArray[length];
        for (int t = 0; t < length; t++) (outputs[t], states) = Call(inputs[t], states);
        return (mergeOutputs == true ? [Merge(outputs, axis)] : outputs, states);
    }

    /// <summary>Stacks per-step (batch, features) arrays along the time axis (1 for NTC, 0 for TNC).</summary>
    protected static NDArray Merge(NDArray[] outputs, int axis) =>
        Nd.Concat(axis, outputs.Select(o => axis == 1 ? o.Reshape(o.Shape[0], 1, o.Shape[1])
            : o.Reshape(1, o.Shape[0], o.Shape[1])).ToArray());

    protected int TimeAxis(string layout) => layout switch
    {
        "NTC" => 1,
        "TNC" => 0,
        _ => throw new ArgumentException($"{Name}: Invalid layout {layout}; must be one of ['TNC' or 'NTC'].",
            nameof(layout)),
    };

    /// <summary>Checks a step input is (batch, features).</summary>
    protected void CheckStepInput(NDArray x)
    {
        if (x.Rank != 2)
            throw new ArgumentException(
                $"{Name}: a step input must be (batch, features), got {x.Shape}; use Unroll for sequences.");
    }
}
