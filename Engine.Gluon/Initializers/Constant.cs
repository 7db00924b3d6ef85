namespace Engine.Gluon.Initializers;

/// <summary>Fills with one value: MXNet's <c>mx.init.Constant(value)</c> for a scalar value.</summary>
public sealed class Constant : Initializer
{
    public Constant(double value) => Value = value;

    public double Value { get; }

    public override string Name => "constant";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments => [new("value", Value)];

    protected override void InitializeCore(string name, NDArray array) => array.Fill(Value);
}
