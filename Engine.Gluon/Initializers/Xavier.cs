namespace Engine.Gluon.Initializers;

/// <summary>
/// Glorot and Bengio's initialization: MXNet's <c>mx.init.Xavier(rnd_type='uniform', factor_type='avg',
/// magnitude=3)</c>. With fan_in = shape[1] * prod(shape[2:]) and fan_out = shape[0] * prod(shape[2:]), the
/// factor is their mean, fan_in or fan_out, scale = sqrt(magnitude / factor), and values are U(-scale, scale) or
/// N(0, scale^2). Arrays of rank under 2 are refused, as MXNet does.
/// </summary>
public class Xavier : Initializer
{
    public Xavier(RandomType rndType = RandomType.Uniform, FactorType factorType = FactorType.Avg,
        double magnitude = 3)
    {
        if (!System.Enum.IsDefined(rndType))
            throw new ArgumentOutOfRangeException(nameof(rndType), rndType,
                "Xavier: rndType must be RandomType.Uniform or RandomType.Gaussian.");
        if (!System.Enum.IsDefined(factorType))
            throw new ArgumentOutOfRangeException(nameof(factorType), factorType,
                "Xavier: factorType must be FactorType.Avg, FactorType.In or FactorType.Out.");
        RndType = rndType;
        FactorType = factorType;
        Magnitude = NonNegative(nameof(Xavier), "magnitude", magnitude);
    }

    public RandomType RndType { get; }

    public FactorType FactorType { get; }

    public double Magnitude { get; }

    public override string Name => "xavier";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments =>
    [
        new("rnd_type", RndType == RandomType.Uniform ? "uniform" : "gaussian"),
        new("factor_type", FactorName(FactorType)),
        // MXNet's default magnitude is the Python int 3, which dumps as 3; whole values print the same way.
        new("magnitude", Magnitude == Math.Floor(Magnitude) && Magnitude < 1e15 ? (long)Magnitude : (object)Magnitude),
    ];

    /// <summary>MXNet's fans: fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]).</summary>
    public static (double FanIn, double FanOut) ComputeFans(Shape shape)
    {
        if (shape.Rank < 2)
            throw new ArgumentException(
                $"Xavier: fans need an array of at least 2 dimensions, got shape {shape}.", nameof(shape));
        double receptive = shape.SizeOf(2, shape.Rank);
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>sqrt(magnitude / factor) for an array of <paramref name="shape"/>.</summary>
    public double ScaleFor(Shape shape)
    {
        var (fanIn, fanOut) = ComputeFans(shape);
        double factor = FactorType switch
        {
            FactorType.Avg => (fanIn + fanOut) / 2.0,
            FactorType.In => fanIn,
            _ => fanOut,
        };
        return Math.Sqrt(Magnitude / factor);
    }

    protected override void InitializeCore(string name, NDArray array)
    {
        if (array.Rank < 2)
            throw new ArgumentException(
                $"{GetType().Name} initializer cannot be applied to vector {name} of shape {array.Shape}. It " +
                "requires at least 2D; give this parameter its own initializer, e.g. init: \"zeros\" for a bias.",
                nameof(array));
        if (array.Size == 0) return;
        double scale = ScaleFor(array.Shape);
        if (RndType == RandomType.Uniform) FillUniform(name, array, -scale, scale);
        else FillNormal(name, array, 0, scale);
    }

    private protected static string FactorName(FactorType f) => f switch
    {
        FactorType.Avg => "avg",
        FactorType.In => "in",
        _ => "out",
    };
}
