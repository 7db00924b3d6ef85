namespace Engine.Gluon.Initializers;

/// <summary>
/// He et al.'s initialization for PReLU networks: MXNet's <c>mx.init.MSRAPrelu(factor_type='avg', slope=0.25)</c>,
/// a Gaussian <see cref="Xavier"/> with magnitude 2 / (1 + slope^2).
/// </summary>
public sealed class MSRAPrelu : Xavier
{
    public MSRAPrelu(FactorType factorType = FactorType.Avg, double slope = 0.25)
        : base(RandomType.Gaussian, factorType, MagnitudeFor(slope)) => Slope = slope;

    public double Slope { get; }

    public override string Name => "msraprelu";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments =>
        [new("factor_type", FactorName(FactorType)), new("slope", Slope)];

    private static double MagnitudeFor(double slope)
    {
        if (!double.IsFinite(slope))
            throw new ArgumentOutOfRangeException(nameof(slope), slope, "MSRAPrelu: slope must be a finite number.");
        return 2.0 / (1 + slope * slope);
    }
}
