namespace Engine.Gluon.Initializers;

/// <summary>Uniform values in [-scale, scale]: MXNet's <c>mx.init.Uniform(scale=0.07)</c>, Gluon's default.</summary>
public sealed class Uniform : Initializer
{
    public Uniform(double scale = 0.07) => Scale = NonNegative(nameof(Uniform), "scale", scale);

    public double Scale { get; }

    public override string Name => "uniform";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments => [new("scale", Scale)];

    protected override void InitializeCore(string name, NDArray array) => FillUniform(name, array, -Scale, Scale);
}
