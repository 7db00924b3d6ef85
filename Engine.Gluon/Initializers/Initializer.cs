using System.Text.Json;

namespace Engine.Gluon.Initializers;

/// <summary>
/// Fills a parameter's array in place: MXNet's <c>mx.init.Initializer</c>. As in Gluon, the initializer's weight
/// rule applies to every array it is given, whatever the name's suffix (a Uniform default also fills a parameter
/// named <c>*_bias</c>); layers that want zeros ask for <c>"zeros"</c> explicitly.
/// </summary>
/// <remarks>
/// Random initializers draw from the engine's seeded stream (<see cref="RandomState"/>), so
/// <c>RandomState.Seed(n)</c> makes initialization repeatable. <see cref="Dumps"/> gives MXNet's JSON form,
/// <c>["uniform", {"scale": 0.07}]</c>, which symbol files store in a variable's <c>__init__</c> attribute and
/// <see cref="Create"/> reads back.
/// </remarks>
public abstract class Initializer
{
    /// <summary>The registry name, MXNet's lowercased class name: "uniform", "xavier", "zero", ...</summary>
    public abstract string Name { get; }

    /// <summary>The constructor arguments in MXNet's order, as <see cref="Dumps"/> writes them.</summary>
    protected abstract IReadOnlyList<KeyValuePair<string, object>> Arguments { get; }

    /// <summary>Fills <paramref name="array"/> in place; <paramref name="name"/> is the parameter's name.</summary>
    public void Initialize(string name, NDArray array)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(array);
        if (array.IsDisposed)
            throw new ObjectDisposedException(nameof(NDArray),
                $"{GetType().Name}: the array for parameter '{name}' was disposed; initialize a live array.");
        // Initialization is never part of a graph (MXNet runs it under autograd.pause()).
        using (Autograd.Pause(Autograd.IsTraining))
            InitializeCore(name, array);
    }

    /// <summary>Does the work of <see cref="Initialize"/> on a validated, live array.</summary>
    protected abstract void InitializeCore(string name, NDArray array);

    /// <summary>MXNet's <c>dumps()</c>: <c>["name", {"arg": value, ...}]</c> with Python's JSON spelling.</summary>
    public string Dumps() => InitializerJson.Dumps(Name, Arguments);

    public override string ToString() => Dumps();

    /// <summary>
    /// MXNet's <c>mx.init.create</c>: a registry name ("zeros", "ones", "uniform", "normal", "xavier",
    /// "msraprelu"; case-insensitive, "zero" and "one" too) with default arguments, or a <see cref="Dumps"/>
    /// string such as <c>["xavier", {"rnd_type": "gaussian", "magnitude": 2}]</c>.
    /// </summary>
    public static Initializer Create(string init)
    {
        ArgumentNullException.ThrowIfNull(init);
        string text = init.Trim();
        if (text.StartsWith('[') || text.StartsWith('{'))
        {
            var (name, args) = InitializerJson.Parse(text);
            return Create(name, args, text);
        }
        return Create(text, new Dictionary<string, JsonElement>(), text);
    }

    private static Initializer Create(string name, Dictionary<string, JsonElement> args, string source)
    {
        var reader = new InitializerArguments(name, args, source);
        Initializer result = name.ToLowerInvariant() switch
        {
            "zero" or "zeros" => new Zero(),
            "one" or "ones" => new One(),
            "uniform" => new Uniform(reader.Double("scale", 0.07)),
            "normal" => new Normal(reader.Double("sigma", 0.01)),
            "xavier" => new Xavier(
                reader.Enum("rnd_type", RandomType.Uniform), reader.Enum("factor_type", FactorType.Avg),
                reader.Double("magnitude", 3)),
            "msraprelu" => new MSRAPrelu(reader.Enum("factor_type", FactorType.Avg), reader.Double("slope", 0.25)),
            "constant" => new Constant(reader.Double("value", null)),
            _ => throw new ArgumentException(
                $"Initializer.Create: unknown initializer '{name}' in '{source}'; use one of zeros, ones, uniform, " +
                "normal, xavier, msraprelu, constant (or an Initializer object).", "init"),
        };
        reader.ThrowIfUnused();
        return result;
    }

    /// <summary>Fills a floating-point array with U(low, high) from the engine's stream.</summary>
    protected void FillUniform(string name, NDArray array, double low, double high)
    {
        CheckFloatingPoint(name, array);
        if (array.Size == 0) return;
        if (low == high)
        {
            array.Fill(low);
            return;
        }
        AssignRandom(array, dtype => Nd.RandomUniform(low, high, array.Shape, dtype, array.Device));
    }

    /// <summary>Fills a floating-point array with N(mean, std^2) from the engine's stream.</summary>
    protected void FillNormal(string name, NDArray array, double mean, double std)
    {
        CheckFloatingPoint(name, array);
        if (array.Size == 0) return;
        AssignRandom(array, dtype => Nd.RandomNormal(mean, std, array.Shape, dtype, array.Device));
    }

    private static void AssignRandom(NDArray array, Func<DType, NDArray> draw)
    {
        // The random operator makes float32 and float64; float16 arrays take a float32 draw, cast.
        using var values = draw(array.DType == DType.Float64 ? DType.Float64 : DType.Float32);
        if (values.DType == array.DType)
        {
            array.Assign(values);
            return;
        }
        using var cast = values.AsType(array.DType);
        array.Assign(cast);
    }

    private void CheckFloatingPoint(string name, NDArray array)
    {
        if (!array.DType.IsFloatingPoint())
            throw new ArgumentException(
                $"{GetType().Name}: parameter '{name}' is {array.DType.Name()}, but random initialization needs " +
                "float16, float32 or float64; create the parameter with a floating-point dtype or use Zero, One " +
                "or Constant.", nameof(array));
    }

    /// <summary>Checks that a numeric argument is finite and non-negative.</summary>
    private protected static double NonNegative(string initializer, string argument, double value)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(argument, value,
                $"{initializer}: {argument} must be a finite, non-negative number, got {value}.");
        return value;
    }
}
