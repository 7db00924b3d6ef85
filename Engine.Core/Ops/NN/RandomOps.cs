using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>
/// Dropout's attributes, ambient state included: <see cref="Training"/> says whether it drops (resolved from
/// Autograd.IsTraining, or Always, when the op is called) and <see cref="Seed"/>/<see cref="Offset"/> which Philox
/// counters the mask comes from, so the kernel is a pure function of its attributes and input.
/// </summary>
public sealed record DropoutAttrs(double P, bool Always = false, bool Training = false, ulong Seed = 0,
    ulong Offset = 0) : OpAttrs
{
    /// <summary>These attributes with the training flag and the random counters of a call on x.</summary>
    public DropoutAttrs Resolve(long size)
    {
        bool active = P > 0 && (Always || Autograd.IsTraining);
        if (!active) return this with { Training = false, Seed = 0, Offset = 0 };
        var (seed, offset) = RandomState.Take(CpuRandom.CountersUsed32(size));
        return this with { Training = true, Seed = seed, Offset = offset };
    }

    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["p"] = Format.Number(P), ["mode"] = Always ? "always" : "training",
    };
}

public enum Distribution
{
    Uniform,
    Normal,
}

/// <summary>
/// A random array: uniform in [A, B) or normal with mean A and standard deviation B, from the Philox counters
/// starting at <see cref="Offset"/> of <see cref="Seed"/> (resolved when the op is called).
/// </summary>
public sealed record RandomAttrs(Distribution Distribution, double A, double B, Dims Shape, DType DType,
    ulong Seed = 0, ulong Offset = 0) : OpAttrs
{
    /// <summary>These attributes with the next counters of the engine's random stream.</summary>
    public RandomAttrs Resolve()
    {
        long size = new Shape(Shape).Size;
        var (seed, offset) = RandomState.Take(DType == DType.Float32 ? CpuRandom.CountersUsed32(size)
            : CpuRandom.CountersUsed64(size));
        return this with { Seed = seed, Offset = offset };
    }
}

/// <summary>Dropout and random sampling on the engine's Philox stream (<see cref="RandomState"/>).</summary>
[OpTable]
public static class RandomOps
{
    /// <summary>
    /// Outputs y and the mask (0 or 1/(1-p)), as MXNet's Dropout. Unless the attributes say Training (and p > 0),
    /// y is a copy of x and the mask is ones.
    /// </summary>
    public static readonly OpDef<DropoutAttrs> Dropout = new("dropout", 1, 2,
        (a, t) =>
        {
            ShapeRules.RequireFloat("dropout", t[0]);
            if (!(a.P >= 0 && a.P < 1))
                throw new ArgumentException($"dropout: rate must be in [0, 1), got {a.P}.");
            return [t[0], t[0]];
        },
        FusionClass.Opaque,
        static (_, _, o, g, _) => [g[0] * o[1]])
    {
        Saves = SavedValues.Outputs(1),
        Scratch = static (_, t) => t[0].Shape.Size * t[0].DType.SizeInBytes(),
    };

    public static readonly OpDef<RandomAttrs> Random = new("random", 0, 1,
        (a, _) =>
        {
            if (a.DType is not (DType.Float32 or DType.Float64))
                throw new ArgumentException($"random: dtype must be float32 or float64, got {a.DType.Name()}.");
            if (a.Distribution == Distribution.Uniform && !(a.A < a.B))
                throw new ArgumentException($"random_uniform: low {a.A} must be below high {a.B}.");
            if (a.Distribution == Distribution.Normal && !(a.B >= 0))
                throw new ArgumentException($"random_normal: scale must be non-negative, got {a.B}.");
            return [new TensorType(new Shape(a.Shape), a.DType)];
        });
}
