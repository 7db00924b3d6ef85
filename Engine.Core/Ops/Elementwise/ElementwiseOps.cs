using Engine.Kernels.Cpu;

namespace Engine.Ops;

public sealed record ClipAttrs(double Min, double Max) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["a_min"] = Format.Number(Min), ["a_max"] = Format.Number(Max) };
}

public sealed record LeakyReluAttrs(double Slope) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["act_type"] = "leaky", ["slope"] = Format.Number(Slope) };
}

/// <summary>Elementwise and broadcast operators: one line each, the struct operators doing the math.</summary>
[OpTable]
public static class ElementwiseOps
{
    // Binary, broadcasting, numeric dtypes (float32, float64, int32, int64).
    public static readonly OpDef<NoAttrs> Add = Numeric<AddOperator<float>, AddOperator<double>,
        AddOperator<int>, AddOperator<long>>("add",
        static (_, i, _, g, r) =>
            [
                r[0] ? Gradients.SumTo(g[0], i[0].Shape) : null,
                r[1] ? Gradients.SumTo(g[0], i[1].Shape) : null
            ], saves: SavedValues.Nothing);
    public static readonly OpDef<NoAttrs> Subtract = Numeric<SubtractOperator<float>, SubtractOperator<double>,
        SubtractOperator<int>, SubtractOperator<long>>("subtract",
        static (_, i, _, g, r) =>
            [
                r[0] ? Gradients.SumTo(g[0], i[0].Shape) : null,
                r[1] ? Gradients.SumTo(-g[0], i[1].Shape) : null
            ], saves: SavedValues.Nothing);
    public static readonly OpDef<NoAttrs> Multiply = Numeric<MultiplyOperator<float>, MultiplyOperator<double>,
        MultiplyOperator<int>, MultiplyOperator<long>>("multiply",
        static (_, i, _, g, r) =>
            [
                r[0] ? Gradients.SumTo(g[0] * i[1], i[0].Shape) : null,
                r[1] ? Gradients.SumTo(g[0] * i[0], i[1].Shape) : null
            ], saves: SavedValues.Inputs(0, 1));
    public static readonly OpDef<NoAttrs> Divide = Numeric<DivideOperator<float>, DivideOperator<double>,
        DivideOperator<int>, DivideOperator<long>>("divide",
        static (_, i, o, g, r) =>
            [
                r[0] ? Gradients.SumTo(g[0] / i[1], i[0].Shape) : null,
                r[1] ? Gradients.SumTo((-(g[0] * o[0] / i[1])), i[1].Shape) : null], saves: SavedValues.Of([1],
                [0
            ]));
    public static readonly OpDef<NoAttrs> Power = Numeric<PowerOperator<float>, PowerOperator<double>,
        PowerOperator<int>, PowerOperator<long>>("power",
        static (_, i, o, g, r) =>
            [
                r[0] ? Gradients.SumTo((g[0] * i[1] * Nd.Power(i[0], i[1] - 1)), i[0].Shape) : null,
                r[1] ? Gradients.SumTo((g[0] * o[0] * Nd.Log(i[0])), i[1].Shape) : null
            ]);
    public static readonly OpDef<NoAttrs> Maximum = Numeric<MaximumOperator<float>, MaximumOperator<double>,
        MaximumOperator<int>, MaximumOperator<long>>("maximum",
        static (_, i, _, g, r) =>
            [
                r[0] ? Gradients.SumTo((g[0] * Nd.GreaterEqual(i[0], i[1])), i[0].Shape) : null,
                r[1] ? Gradients.SumTo((g[0] * Nd.Lesser(i[0], i[1])), i[1].Shape) : null
            ], saves: SavedValues.Inputs(0, 1));
    public static readonly OpDef<NoAttrs> Minimum = Numeric<MinimumOperator<float>, MinimumOperator<double>,
        MinimumOperator<int>, MinimumOperator<long>>("minimum",
        static (_, i, _, g, r) =>
            [
                r[0] ? Gradients.SumTo((g[0] * Nd.LesserEqual(i[0], i[1])), i[0].Shape) : null,
                r[1] ? Gradients.SumTo((g[0] * Nd.Greater(i[0], i[1])), i[1].Shape) : null
            ], saves: SavedValues.Inputs(0, 1));
    public static readonly OpDef<NoAttrs> Equal = Numeric<EqualOperator<float>, EqualOperator<double>,
        EqualOperator<int>, EqualOperator<long>>("equal");
    public static readonly OpDef<NoAttrs> NotEqual = Numeric<NotEqualOperator<float>, NotEqualOperator<double>,
        NotEqualOperator<int>, NotEqualOperator<long>>("not_equal");
    public static readonly OpDef<NoAttrs> Greater = Numeric<GreaterOperator<float>, GreaterOperator<double>,
        GreaterOperator<int>, GreaterOperator<long>>("greater");
    public static readonly OpDef<NoAttrs> GreaterEqual = Numeric<GreaterEqualOperator<float>,
        GreaterEqualOperator<double>, GreaterEqualOperator<int>, GreaterEqualOperator<long>>("greater_equal");
    public static readonly OpDef<NoAttrs> Lesser = Numeric<LessOperator<float>, LessOperator<double>,
        LessOperator<int>, LessOperator<long>>("lesser");
    public static readonly OpDef<NoAttrs> LesserEqual = Numeric<LessEqualOperator<float>,
        LessEqualOperator<double>, LessEqualOperator<int>, LessEqualOperator<long>>("lesser_equal");

    // Unary, numeric dtypes.
    public static readonly OpDef<NoAttrs> Negative = UnaryNumeric<NegateOperator<float>, NegateOperator<double>,
        NegateOperator<int>, NegateOperator<long>>("negative",
        static (_, _, _, g, _) => [-g[0]], saves: SavedValues.Nothing);
    public static readonly OpDef<NoAttrs> Abs = UnaryNumeric<AbsOperator<float>, AbsOperator<double>,
        AbsOperator<int>, AbsOperator<long>>("abs",
        static (_, i, _, g, _) => [(g[0] * Nd.Sign(i[0]))], saves: SavedValues.Inputs(0));
    public static readonly OpDef<NoAttrs> Sign = UnaryNumeric<SignOperator<float>, SignOperator<double>,
        SignOperator<int>, SignOperator<long>>("sign");
    public static readonly OpDef<NoAttrs> Square = UnaryNumeric<SquareOperator<float>, SquareOperator<double>,
        SquareOperator<int>, SquareOperator<long>>("square",
        static (_, i, _, g, _) => [(g[0] * i[0] * 2)], saves: SavedValues.Inputs(0));
    public static readonly OpDef<NoAttrs> Relu = UnaryNumeric<ReluOperator<float>, ReluOperator<double>,
        ReluOperator<int>, ReluOperator<long>>("relu",
        static (_, _, o, g, _) => [ReluBackward!.Call(NoAttrs.Instance, o[0], g[0])], saves: SavedValues.Outputs(0));

    /// <summary>Inputs y (relu's output) and dy: dy where y &gt; 0, else 0, in one pass.</summary>
    public static readonly OpDef<NoAttrs> ReluBackward = Numeric<ReluBackwardOperator<float>,
        ReluBackwardOperator<double>, ReluBackwardOperator<int>, ReluBackwardOperator<long>>("_backward_relu",
        // relu'' = 0: only dy carries a gradient, masked the same way.
        static (_, i, _, g, r) =>
            [
                null,
                r[1] ? ReluBackward!.Call(NoAttrs.Instance, i[0], g[0]) : null
            ], saves: SavedValues.Inputs(0));

    // Unary, float dtypes.
    public static readonly OpDef<NoAttrs> Exp = UnaryFloat<ExpOperator<float>, ExpOperator<double>>("exp",
        static (_, _, o, g, _) => [g[0] * o[0]], saves: SavedValues.Outputs(0));
    public static readonly OpDef<NoAttrs> Log = UnaryFloat<LogOperator<float>, LogOperator<double>>("log",
        static (_, i, _, g, _) => [g[0] / i[0]], saves: SavedValues.Inputs(0));
    public static readonly OpDef<NoAttrs> Sqrt = UnaryFloat<SqrtOperator<float>, SqrtOperator<double>>("sqrt",
        static (_, _, o, g, _) => [(g[0] * 0.5 / o[0])], saves: SavedValues.Outputs(0));
    public static readonly OpDef<NoAttrs> Rsqrt = UnaryFloat<RsqrtOperator<float>, RsqrtOperator<double>>("rsqrt",
        static (_, _, o, g, _) => [(g[0] * -0.5 * o[0] * o[0] * o[0])], saves: SavedValues.Outputs(0));
    public static readonly OpDef<NoAttrs> Reciprocal =
        UnaryFloat<ReciprocalOperator<float>, ReciprocalOperator<double>>("reciprocal",
        static (_, _, o, g, _) => [(-(g[0] * o[0] * o[0]))], saves: SavedValues.Outputs(0));
    public static readonly OpDef<NoAttrs> Sigmoid =
        UnaryFloat<SigmoidOperator<float>, SigmoidOperator<double>>("sigmoid",
        static (_, _, o, g, _) => [(g[0] * o[0] * (1 - o[0]))], saves: SavedValues.Outputs(0));
    public static readonly OpDef<NoAttrs> Tanh = UnaryFloat<TanhOperator<float>, TanhOperator<double>>("tanh",
        static (_, _, o, g, _) => [(g[0] * (1 - o[0] * o[0]))], saves: SavedValues.Outputs(0));
    public static readonly OpDef<NoAttrs> SoftRelu =
        UnaryFloat<SoftReluOperator<float>, SoftReluOperator<double>>("softrelu",
        static (_, i, _, g, _) => [(g[0] * Nd.Sigmoid(i[0]))], saves: SavedValues.Inputs(0));
    public static readonly OpDef<NoAttrs> SoftSign =
        UnaryFloat<SoftSignOperator<float>, SoftSignOperator<double>>("softsign",
        static (_, i, _, g, _) => [(g[0] / Nd.Square(1 + Nd.Abs(i[0])))], saves: SavedValues.Inputs(0));

    public static readonly OpDef<ClipAttrs> Clip = new("clip",
        (a, t) =>
        {
            ShapeRules.RequireNumeric("clip", t[0]);
            if (!(a.Min <= a.Max))
                throw new ArgumentException($"clip: min {a.Min} must not exceed max {a.Max}.");
            return [t[0]];
        },
        new UnaryMath<ClipAttrs, ClipOperator<float>, ClipOperator<double>, ClipOperator<int>, ClipOperator<long>>(
            a => (new((float)a.Min, (float)a.Max), new(a.Min, a.Max), new(SaturateInt(a.Min), SaturateInt(a.Max)),
                new(SaturateLong(a.Min), SaturateLong(a.Max))), NumericTypes),
        FusionClass.Elementwise,
        static (a, i, _, g, _) => [(g[0] * (i[0] >= a.Min) * (i[0] <= a.Max))],
        inPlace: [(0, 0)]) { Saves = SavedValues.Inputs(0) };

    public static readonly OpDef<LeakyReluAttrs> LeakyRelu = new("leaky_relu",
        (a, t) =>
        {
            ShapeRules.RequireFloat("leaky_relu", t[0]);
            return [t[0]];
        },
        new UnaryMath<LeakyReluAttrs, LeakyReluOperator<float>, LeakyReluOperator<double>, NoOperator<int>,
            NoOperator<long>>(a => (new((float)a.Slope), new(a.Slope), default, default), Float),
        FusionClass.Elementwise,
        // d/dx = 1 for x > 0, slope otherwise: slope + (1 - slope) * (x > 0).
        static (a, i, _, g, _) => [(g[0] * ((i[0] > 0) * (1 - a.Slope) + a.Slope))],
        inPlace: [(0, 0)]) { Saves = SavedValues.Inputs(0) };

    /// <summary>where(cond, x, y): x where cond != 0, else y; cond has x's dtype; all three broadcast.</summary>
    public static readonly OpDef<NoAttrs> Where = new("where",
        (_, t) =>
        {
            ShapeRules.RequireSameDType("where", t[1], t[2]);
            if (t[0].DType != t[1].DType)
                throw new ArgumentException(
                    $"where: the condition is {t[0].DType.Name()} but x and y are {t[1].DType.Name()}; " +
                    $"convert the condition with AsType(DType.{t[1].DType}).");
            var shape = ShapeRules.Broadcast("where", ShapeRules.Broadcast("where", t[0].Shape, t[1].Shape),
                t[2].Shape);
            return [new TensorType(shape, t[1].DType)];
        },
        new TernaryMath<WhereOperator<float>, WhereOperator<double>, WhereOperator<int>, WhereOperator<long>>(),
        FusionClass.Broadcast,
        static (_, i, o, g, r) =>
        [
            null,
            r[1] ? Gradients.SumTo((Nd.Where(i[0], g[0], Nd.ZerosLike(g[0]))), i[1].Shape) : null,
            r[2] ? Gradients.SumTo((Nd.Where(i[0], Nd.ZerosLike(g[0]), g[0])), i[2].Shape) : null,
        ]);

    private static DType[] NumericTypes => [DType.Float32, DType.Float64, DType.Int32, DType.Int64];
    private static DType[] Float => [DType.Float32, DType.Float64];

    private static OpDef<NoAttrs> Numeric<TF, TD, TI, TL>(string name, GradientRule<NoAttrs>? gradient = null,
        SavedValues? saves = null)
        where TF : struct, IBinaryOperator<float> where TD : struct, IBinaryOperator<double>
        where TI : struct, IBinaryOperator<int> where TL : struct, IBinaryOperator<long> =>
        new(name,
            (_, t) =>
            {
                ShapeRules.RequireNumeric(name, t[0]);
                return ShapeRules.BroadcastBinary(name, t[0], t[1]);
            },
            new BinaryMath<TF, TD, TI, TL>(), FusionClass.Broadcast, gradient, inPlace: [(0, 0), (1, 0)])
        {
            Saves = saves ?? SavedValues.All,
        };

    private static OpDef<NoAttrs> UnaryNumeric<TF, TD, TI, TL>(string name, GradientRule<NoAttrs>? gradient = null,
        SavedValues? saves = null)
        where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double>
        where TI : struct, IUnaryOperator<int> where TL : struct, IUnaryOperator<long> =>
        new(name,
            (_, t) =>
            {
                ShapeRules.RequireNumeric(name, t[0]);
                return [t[0]];
            },
            new UnaryMath<NoAttrs, TF, TD, TI, TL>(_ => default, NumericTypes), FusionClass.Elementwise, gradient,
            inPlace: [(0, 0)])
        {
            Saves = saves ?? SavedValues.All,
        };

    private static OpDef<NoAttrs> UnaryFloat<TF, TD>(string name, GradientRule<NoAttrs>? gradient = null,
        SavedValues? saves = null)
        where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double> =>
        new(name,
            (_, t) =>
            {
                ShapeRules.RequireFloat(name, t[0]);
                return [t[0]];
            },
            new UnaryMath<NoAttrs, TF, TD, NoOperator<int>, NoOperator<long>>(_ => default, Float),
            FusionClass.Elementwise, gradient, inPlace: [(0, 0)])
        {
            Saves = saves ?? SavedValues.All,
        };

    private static int SaturateInt(double v) => (int)Math.Clamp(Math.Round(v), int.MinValue, int.MaxValue);

    private static long SaturateLong(double v) => (long)Math.Clamp(Math.Round(v), long.MinValue, long.MaxValue);
}
