namespace Engine.Gluon.Initializers;

/// <summary>Normal values, mean 0 and standard deviation sigma: MXNet's <c>mx.init.Normal(sigma=0.01)</c>.</summary>
public sealed class Normal : Initializer
{
    public Normal(double sigma = 0.01) => Sigma = NonNegative(nameof(Normal), "sigma", sigma);

    public double Sigma { get; }

    public override string Name => "normal";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments => [new("sigma", Sigma)];

    protected override void InitializeCore(string name, NDArray array) => FillNormal(name, array, 0, Sigma);
}
