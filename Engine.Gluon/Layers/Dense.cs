using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>
/// A fully connected layer: y = activation(x W^T + b), W of shape (units, inUnits). inUnits = 0 defers the
/// weight's shape to the first forward pass (MXNet's nn.Dense).
/// </summary>
public class Dense : HybridBlock
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Activation? act;

    public Dense(int units, string? activation = null, bool useBias = true, bool flatten = true,
        DType dtype = DType.Float32, Initializer? weightInitializer = null, Initializer? biasInitializer = null,
        int inUnits = 0, string? prefix = null, ParameterDict? @params = null) : base(prefix, @params)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units),
            $"Dense: units must be positive, got {units}.");
        if (inUnits < 0) throw new ArgumentOutOfRangeException(nameof(inUnits),
            $"Dense: in_units must be >= 0, got {inUnits}.");
        Units = units;
        Flatten = flatten;
        weight = Params.Get("weight", new Shape(units, inUnits), weightInitializer, dtype, allowDeferredInit: true);
        if (useBias) bias = Params.Get("bias", new Shape(units), biasInitializer ?? new Zero(), dtype,
            allowDeferredInit: true);
        if (activation is not null) act = new Activation(activation, prefix: activation + "_");
    }

    protected override string Alias => "dense";

    public int Units { get; }

    public bool Flatten { get; }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    public override NDArray Forward(NDArray x)
    {
        if (weight.Shape[1] == 0 || weight.IsDeferred)
        {
            int inUnits = Flatten ? (int)(x.Rank <= 1 ? x.Size : x.Shape.SizeOf(1, x.Rank)) : x.Shape[^1];
            weight.FinishDeferredInit(new Shape(Units, inUnits));
            bias?.FinishDeferredInit(new Shape(Units));
        }
        var y = Nd.FullyConnected(x, weight.Data(x.Device), bias?.Data(x.Device), Units, Flatten);
        return act is null ? y : act.Call(y);
    }

    public override string ToString()
    {
        string inUnits = weight.Shape[1] == 0 ? "None" : weight.Shape[1].ToString();
        return $"Dense({inUnits} -> {Units}, {(act is null ? "linear" : act.ToString())})";
    }
}
