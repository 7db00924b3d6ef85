using Engine.Kernels.Cpu;

namespace Engine.Ops;

public sealed record DropoutAttrs(double P, bool Always = false) : OpAttrs
{
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

/// <summary>A random array: uniform in [A, B) or normal with mean A and standard deviation B.</summary>
public sealed record RandomAttrs(Distribution Distribution, double A, double B, int[] Shape, DType DType) : OpAttrs
{
    public bool Equals(RandomAttrs? o) => o is not null && Distribution == o.Distribution && A.Equals(o.A) &&
                                          B.Equals(o.B) && Shape.SequenceEqual(o.Shape) && DType == o.DType;

    public override int GetHashCode() => HashCode.Combine(Distribution, A, B, Shape.Length, DType);
}

/// <summary>Dropout and random sampling on the engine's Philox stream (<see cref="RandomState"/>).</summary>
[OpTable]
public static class RandomOps
{
    /// <summary>
    /// Outputs y and the mask (0 or 1/(1-p)), as MXNet's Dropout. Outside training (and unless Always), or with
    /// p == 0, y is a copy of x and the mask is ones.
    /// </summary>
    public static readonly OpDef<DropoutAttrs> Dropout = new("dropout", 1, 2,
        (a, t) =>
        {
            ShapeRules.RequireFloat("dropout", t[0]);
            if (!(a.P >= 0 && a.P < 1))
                throw new ArgumentException($"dropout: rate must be in [0, 1), got {a.P}.");
            return [t[0], t[0]];
        },
        ElementwiseOps.Cpu<DropoutAttrs>((a, i, o) =>
        {
            using var xLease = i[0].Contiguous();
            var x = xLease.Array;
            bool active = a.P > 0 && (a.Always || Autograd.IsTraining);
            if (!active)
            {
                CopyOps.CopyKernel(x, o[0]);
                Nd.Fill(o[1], 1);
                return;
            }
            var (seed, offset) = RandomState.Take(CpuRandom.CountersUsed32(x.Size));
            if (x.DType == DType.Float32)
            {
                CpuRandom.DropoutMask(seed, offset, 1 - a.P, o[1].AsSpan<float>());
                CpuRandom.Dropout(x.AsSpan<float>(), o[1].AsSpan<float>(), o[0].AsSpan<float>());
            }
            else
            {
                CpuRandom.DropoutMask(seed, offset, 1 - a.P, o[1].AsSpan<double>());
                CpuRandom.Dropout(x.AsSpan<double>(), o[1].AsSpan<double>(), o[0].AsSpan<double>());
            }
        }),
        FusionClass.Opaque,
        static (_, _, o, g, _) => [g[0] * o[1]]);

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
        },
        ElementwiseOps.Cpu<RandomAttrs>((a, _, o) =>
        {
            var y = o[0];
            bool f32 = y.DType == DType.Float32;
            var (seed, offset) = RandomState.Take(f32 ? CpuRandom.CountersUsed32(y.Size) : CpuRandom.CountersUsed64(y.Size));
            switch (a.Distribution, f32)
            {
                case (Distribution.Uniform, true): CpuRandom.Uniform(seed, offset, (float)a.A, (float)a.B, y.AsSpan<float>()); break;
                case (Distribution.Uniform, false): CpuRandom.Uniform(seed, offset, a.A, a.B, y.AsSpan<double>()); break;
                case (Distribution.Normal, true): CpuRandom.Normal(seed, offset, (float)a.A, (float)a.B, y.AsSpan<float>()); break;
                default: CpuRandom.Normal(seed, offset, a.A, a.B, y.AsSpan<double>()); break;
            }
        }));
}
