using Engine.Ops;

namespace Engine.Graphs;

// Operator helpers that build MXNet nodes, as mx.sym does: a layer helper creates its weight variables
// (<name>_weight, <name>_bias) unless they are given.
public sealed partial class Symbol
{
    public static Symbol operator +(Symbol a, Symbol b) => Create("elemwise_add", null, null, a, b);

    public static Symbol operator -(Symbol a, Symbol b) => Create("elemwise_sub", null, null, a, b);

    public static Symbol operator *(Symbol a, Symbol b) => Create("elemwise_mul", null, null, a, b);

    public static Symbol operator /(Symbol a, Symbol b) => Create("elemwise_div", null, null, a, b);

    public static Symbol operator +(Symbol a, double b) => Scalar("_plus_scalar", a, b);

    public static Symbol operator -(Symbol a, double b) => Scalar("_minus_scalar", a, b);

    public static Symbol operator -(double a, Symbol b) => Scalar("_rminus_scalar", b, a);

    public static Symbol operator *(Symbol a, double b) => Scalar("_mul_scalar", a, b);

    public static Symbol operator /(Symbol a, double b) => Scalar("_div_scalar", a, b);

    public static Symbol operator -(Symbol a) => Scalar("_mul_scalar", a, -1.0);

    private static Symbol Scalar(string op, Symbol a, double value) =>
        Create(op, null, new Dictionary<string, string> { ["scalar"] = Format.Number(value) }, a);

    public static Symbol FullyConnected(Symbol data, int numHidden, string? name = null, bool noBias = false,
        bool flatten = true, Symbol? weight = null, Symbol? bias = null)
    {
        name ??= AutoName("FullyConnected");
        var attrs = new Dictionary<string, string>
        {
            ["num_hidden"] = numHidden.ToString(), ["no_bias"] = Format.Bool(noBias),
            ["flatten"] = Format.Bool(flatten),
        };
        weight ??= Var(name + "_weight");
        return noBias ? Create("FullyConnected", name, attrs, data, weight)
            : Create("FullyConnected", name, attrs, data, weight, bias ?? Var(name + "_bias"));
    }

    public static Symbol Convolution(Symbol data, int[] kernel, int numFilter, string? name = null,
        int[]? stride = null, int[]? pad = null, int numGroup = 1, bool noBias = false)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        name ??= AutoName("Convolution");
        var attrs = new Dictionary<string, string>
        {
            ["kernel"] = Format.Tuple(kernel), ["num_filter"] = numFilter.ToString(),
            ["stride"] = Format.Tuple(stride ?? kernel.Select(_ => 1).ToArray()),
            ["pad"] = Format.Tuple(pad ?? new int[kernel.Length]), ["num_group"] = numGroup.ToString(),
            ["no_bias"] = Format.Bool(noBias),
        };
        var weight = Var(name + "_weight");
        return noBias ? Create("Convolution", name, attrs, data, weight)
            : Create("Convolution", name, attrs, data, weight, Var(name + "_bias"));
    }

    /// <summary>act_type relu, sigmoid, tanh, softrelu or softsign.</summary>
    public static Symbol Activation(Symbol data, string actType, string? name = null) =>
        Create("Activation", name, new Dictionary<string, string> { ["act_type"] = actType }, data);

    /// <summary>poolType max or avg; convention valid or full.</summary>
    public static Symbol Pooling(Symbol data, int[] kernel, string poolType = "max", int[]? stride = null,
        int[]? pad = null, bool globalPool = false, string convention = "valid", string? name = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var attrs = new Dictionary<string, string>
        {
            ["kernel"] = Format.Tuple(kernel), ["pool_type"] = poolType,
            ["stride"] = Format.Tuple(stride ?? kernel), ["pad"] = Format.Tuple(pad ?? new int[kernel.Length]),
            ["global_pool"] = Format.Bool(globalPool), ["pooling_convention"] = convention,
        };
        return Create("Pooling", name, attrs, data);
    }

    public static Symbol Flatten(Symbol data, string? name = null) => Create("Flatten", name, null, data);

    public static Symbol Reshape(Symbol data, int[] shape, string? name = null) =>
        Create("Reshape", name, new Dictionary<string, string> { ["shape"] = Format.Tuple(shape) }, data);

    /// <summary>MXNet's BatchNorm defaults: eps 1e-3 and fix_gamma True (Gluon writes 1e-5 and False).</summary>
    public static Symbol BatchNorm(Symbol data, string? name = null, double eps = 1e-3, bool fixGamma = true)
    {
        name ??= AutoName("BatchNorm");
        var attrs = new Dictionary<string, string>
        {
            ["eps"] = Format.Number(eps), ["fix_gamma"] = Format.Bool(fixGamma),
        };
        return Create("BatchNorm", name, attrs, data, Var(name + "_gamma"), Var(name + "_beta"),
            Var(name + "_moving_mean"), Var(name + "_moving_var"));
    }

    public static Symbol Softmax(Symbol data, int axis = -1, string? name = null) =>
        Create("softmax", name, new Dictionary<string, string> { ["axis"] = axis.ToString() }, data);

    public static Symbol Concat(int dim, string? name, params Symbol[] inputs) =>
        Create("Concat", name, new Dictionary<string, string>
        {
            ["dim"] = dim.ToString(), ["num_args"] = inputs.Length.ToString(),
        }, inputs);

    public static Symbol Dropout(Symbol data, double p = 0.5, string? name = null) =>
        Create("Dropout", name, new Dictionary<string, string> { ["p"] = Format.Number(p) }, data);
}
