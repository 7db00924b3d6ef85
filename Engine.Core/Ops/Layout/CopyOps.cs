namespace Engine.Ops;

public sealed record CastAttrs(DType DType) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["dtype"] = DType.Name() };
}

/// <summary>An array of <see cref="Shape"/> filled with <see cref="Value"/> (MXNet's _full).</summary>
public sealed record FullAttrs(Dims Shape, double Value, DType DType) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["shape"] = Format.Tuple(Shape), ["value"] = Format.Number(Value), ["dtype"] = DType.Name(),
    };
}

/// <summary>Copies, conversions and fills: the operators every write to existing memory goes through.</summary>
[OpTable]
public static class CopyOps
{
    /// <summary>
    /// A copy of any layout into any layout of the same shape (materialises transposes and broadcasts).
    /// </summary>
    public static readonly OpDef<NoAttrs> Copy = new("copy", 1, 1, ShapeRules.Same, FusionClass.Injective,
        static (_, _, _, g, _) => [g[0]])
    {
        Saves = SavedValues.Nothing,
        StridedOutputs = true,
        Scratch = static (_, _) => 0,
    };

    public static readonly OpDef<CastAttrs> Cast = new("cast", 1, 1,
        (a, t) => [new TensorType(t[0].Shape, a.DType)],
        FusionClass.Elementwise,
        static (_, i, _, g, _) => [i[0].DType.IsFloatingPoint() ? g[0].AsType(i[0].DType) : null])
    {
        Saves = SavedValues.Nothing,
    };

    /// <summary>No inputs; writes the value into any layout (Fill on a view).</summary>
    public static readonly OpDef<FullAttrs> Full = new("full", 0, 1,
        (a, _) =>
        {
            if (double.IsNaN(a.Value) && !a.DType.IsFloatingPoint())
                throw new ArgumentException($"full: NaN cannot be stored in {a.DType.Name()}.");
            return [new TensorType(a.Shape.ToShape(), a.DType)];
        })
    {
        StridedOutputs = true,
        Scratch = static (a, _) => a.DType.SizeInBytes(),
    };
}
