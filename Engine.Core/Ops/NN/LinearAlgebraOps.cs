using Engine.Kernels;

namespace Engine.Ops;

public sealed record DotAttrs(bool TransposeA = false, bool TransposeB = false) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["transpose_a"] = Format.Bool(TransposeA), ["transpose_b"] = Format.Bool(TransposeB),
    };
}

/// <param name="Activation">An activation the kernel applies to its output (set by the fusion pass only).</param>
public sealed record FullyConnectedAttrs(int NumHidden, bool NoBias = false, bool Flatten = true,
    EpilogueActivation Activation = EpilogueActivation.None) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary()
    {
        var d = new Dictionary<string, string>
        {
            ["flatten"] = Format.Bool(Flatten), ["no_bias"] = Format.Bool(NoBias),
            ["num_hidden"] = NumHidden.ToString(),
        };
        if (Activation != EpilogueActivation.None) d["fused_activation"] = Activation.ToString().ToLowerInvariant();
        return d;
    }
}

/// <summary>Matrix products: dot, batch_dot and MXNet's FullyConnected (y = x W^T + b).</summary>
[OpTable]
public static class LinearAlgebraOps
{
    /// <summary>2-D (m, k) x (k, n), either operand transposed.</summary>
    public static readonly OpDef<DotAttrs> Dot = new("dot", 2, 1,
        (a, t) =>
        {
            var (m, _, n) = DotDims("dot", a, t[0], t[1]);
            return [new TensorType(new Shape(m, n), t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        [
            r[0] ? (a.TransposeA ? Nd.Dot(i[1], g[0], a.TransposeB, true) : Nd.Dot(g[0], i[1], false, !a.TransposeB))
                : null,
            r[1] ? (a.TransposeB ? Nd.Dot(g[0], i[0], true, a.TransposeA) : Nd.Dot(i[0], g[0], !a.TransposeA, false))
                : null,
        ]);

    /// <summary>(b, m, k) x (b, k, n) per batch, either operand transposed.</summary>
    public static readonly OpDef<DotAttrs> BatchDot = new("batch_dot", 2, 1,
        (a, t) =>
        {
            if (t[0].Shape.Rank != 3 || t[1].Shape.Rank != 3 || t[0].Shape[0] != t[1].Shape[0])
                throw new ArgumentException(
                    $"batch_dot: expects two 3-D arrays with the same batch size, got {t[0].Shape} and {t[1].Shape}.");
            var (m, _, n) = DotDims("batch_dot", a, Drop(t[0]), Drop(t[1]));
            return [new TensorType(new Shape(t[0].Shape[0], m, n), t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        [
            r[0] ? (a.TransposeA ? Nd.BatchDot(i[1], g[0], a.TransposeB, true)
                : Nd.BatchDot(g[0], i[1], false, !a.TransposeB)) : null,
            r[1] ? (a.TransposeB ? Nd.BatchDot(g[0], i[0], true, a.TransposeA)
                : Nd.BatchDot(i[0], g[0], !a.TransposeA, false)) : null,
        ]);

    /// <summary>Inputs data, weight (num_hidden, in_units) and, unless NoBias, bias (num_hidden).</summary>
    public static readonly OpDef<FullyConnectedAttrs> FullyConnected = new("fully_connected", -1, 1,
        (a, t) =>
        {
            int expected = a.NoBias ? 2 : 3;
            if (t.Length != expected)
                throw new ArgumentException(
                    $"fully_connected: expects {expected} inputs (data, weight{(a.NoBias ? "" : ", bias")}), got " +
                    $"{t.Length}.");
            ShapeRules.RequireFloat("fully_connected", t[0]);
            for (int k = 1; k < t.Length; k++) ShapeRules.RequireSameDType("fully_connected", t[0], t[k]);
            var (rows, inUnits) = FlattenedDims(a, t[0].Shape);
            var w = t[1].Shape;
            if (w.Rank != 2 || w[0] != a.NumHidden || w[1] != inUnits)
                throw new ArgumentException(
                    $"fully_connected: weight has shape {w} but data {t[0].Shape} needs ({a.NumHidden}, {inUnits}) " +
                    $"(num_hidden, in_units{(a.Flatten ? " = product of the non-batch dims" : "")}).");
            if (!a.NoBias && t[2].Shape != new Shape(a.NumHidden))
                throw new ArgumentException(
                    $"fully_connected: bias has shape {t[2].Shape} but needs ({a.NumHidden},).");
            var outDims = a.Flatten ? [t[0].Shape[0], a.NumHidden]
                : t[0].Shape.Dims[..^1].ToArray().Append(a.NumHidden).ToArray();
            _ = rows;
            return [new TensorType(new Shape(outDims), t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, _, g, r) =>
        {
            Epilogues.RequireNone("fully_connected", a.Activation);
            var (rows, inUnits) = FlattenedDims(a, i[0].Shape);
            var g2 = g[0].Reshape(rows, a.NumHidden);
            var x2 = i[0].Reshape(rows, inUnits);
            var result = new NDArray?[i.Length];
            if (r[0]) result[0] = Nd.Dot(g2, i[1]).Reshape(i[0].Shape);
            if (r[1]) result[1] = Nd.Dot(g2, x2, transposeA: true);
            // db = ones(1, rows) . g: a one-row product runs on GEMM's no-packing path, faster than a column sum.
            if (!a.NoBias && r[2])
                result[2] = Nd.Dot(Nd.Ones(new Shape(1, rows), g2.DType, g2.Device), g2).Reshape(a.NumHidden);
            return result;
        });

    private static TensorType Drop(TensorType t) => new(new Shape(t.Shape[1], t.Shape[2]), t.DType);

    private static (int M, int K, int N) DotDims(string op, DotAttrs a, TensorType x, TensorType y)
    {
        ShapeRules.RequireFloat(op, x);
        ShapeRules.RequireSameDType(op, x, y);
        if (x.Shape.Rank != 2 || y.Shape.Rank != 2)
            throw new ArgumentException($"{op}: expects 2-D operands, got {x.Shape} and {y.Shape}.");
        int m = a.TransposeA ? x.Shape[1] : x.Shape[0], k = a.TransposeA ? x.Shape[0] : x.Shape[1];
        int k2 = a.TransposeB ? y.Shape[1] : y.Shape[0], n = a.TransposeB ? y.Shape[0] : y.Shape[1];
        if (k != k2)
            throw new ArgumentException(
                $"{op}: inner dimensions differ: {x.Shape}{(a.TransposeA ? "^T" : "")} x " +
                $"{y.Shape}{(a.TransposeB ? "^T" : "")} contracts {k} with {k2}.");
        return (m, k, n);
    }

    internal static (int Rows, int InUnits) FlattenedDims(FullyConnectedAttrs a, Shape x)
    {
        if (x.Rank == 0) throw new ArgumentException("fully_connected: data must have at least one dimension.");
        if (a.Flatten)
            return x.Rank == 1 ? (1, x[0]) : (x[0], checked((int)x.SizeOf(1, x.Rank)));
        return (checked((int)x.SizeOf(0, x.Rank - 1)), x[^1]);
    }
}
