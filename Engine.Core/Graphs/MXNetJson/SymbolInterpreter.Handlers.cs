using Engine.Kernels;
using Engine.Ops;
using A = Engine.Graphs.MXNetJson.Attribute;

namespace Engine.Graphs.MXNetJson;

// One entry per MXNet operator name (aliases share an entry): the attributes it accepts and the Nd calls that
// compute it. Defaults are MXNet's operator defaults, which differ from Gluon's (BatchNorm eps 1e-3, fix_gamma).
public sealed partial class SymbolInterpreter
{
    internal static readonly IReadOnlyDictionary<string, Handler> Handlers = Build();

    private static Dictionary<string, Handler> Build()
    {
        var h = new Dictionary<string, Handler>(StringComparer.Ordinal);
        void Add(Handler handler, params string[] names)
        {
            foreach (var n in names) h[n] = handler;
        }

        Add(new Handler(["kernel", "stride", "dilate", "pad", "num_filter", "num_group", "no_bias", "layout",
            "workspace", "cudnn_tune", "cudnn_off"], Convolution)
        {
            ParameterShape = (n, k, x) =>
            {
                int filters = A.RequiredInt(n, "num_filter");
                if (k == 2) return new Shape(filters);
                var kernel = A.RequiredTuple(n, "kernel");
                return new Shape([filters, x[1] / A.Int(n, "num_group", 1), .. kernel]);
            },
            Inputs = (n, c) => c == (A.Bool(n, "no_bias", false) ? 2 : 3),
            Check = n =>
            {
                CheckLayout(n);
                if (A.RequiredTuple(n, "kernel").Length is not (1 or 2 or 3))
                    throw new NotSupportedException("only 1-D, 2-D and 3-D convolutions are supported.");
            },
        }, "Convolution", "Convolution_v1");

        Add(new Handler(["num_hidden", "no_bias", "flatten"], (n, i) =>
            [Nd.FullyConnected(i[0], i[1], A.Bool(n, "no_bias", false) ? null : i[2], A.RequiredInt(n, "num_hidden"),
                A.Bool(n, "flatten", true))])
        {
            ParameterShape = (n, k, x) =>
            {
                int units = A.RequiredInt(n, "num_hidden");
                if (k == 2) return new Shape(units);
                int inUnits = A.Bool(n, "flatten", true) ? (int)(x.Size / Math.Max(1, x[0])) : x[^1];
                return new Shape(units, inUnits);
            },
            Inputs = (n, c) => c == (A.Bool(n, "no_bias", false) ? 2 : 3),
        }, "FullyConnected");

        Add(new Handler(["act_type"], (n, i) => [Activation(A.String(n, "act_type", ""), i[0])])
        {
            Check = n => _ = ActivationKnown(A.String(n, "act_type", "")),
        }, "Activation");

        Add(new Handler(["act_type", "slope", "lower_bound", "upper_bound"], LeakyRelu)
        {
            ParameterShape = (_, _, x) => new Shape(x[1]),
            Check = n =>
            {
                string t = A.String(n, "act_type", "leaky");
                if (t is not ("leaky" or "prelu" or "elu" or "selu" or "gelu" or "rrelu"))
                    throw new NotSupportedException(
                        $"act_type {t} is not supported; leaky, prelu, elu, selu, gelu and rrelu are.");
            },
        }, "LeakyReLU");

        Add(new Handler(["kernel", "pool_type", "global_pool", "pooling_convention", "stride", "pad", "p_value",
            "count_include_pad", "layout", "cudnn_off"], Pooling)
        {
            Check = n =>
            {
                string type = A.String(n, "pool_type", "max");
                if (type is not ("max" or "avg" or "sum"))
                    throw new NotSupportedException($"pool_type {type} is not supported; max, avg and sum are.");
                string conv = A.String(n, "pooling_convention", "valid");
                if (conv is not ("valid" or "full"))
                    throw new NotSupportedException($"pooling_convention {conv} is not supported; valid and full are.");
                CheckLayout(n);
                if (!A.Bool(n, "global_pool", false)) A.RequiredTuple(n, "kernel");
            },
        }, "Pooling", "Pooling_v1");

        Add(new Handler(["eps", "momentum", "fix_gamma", "use_global_stats", "output_mean_var", "axis", "cudnn_off",
            "min_calib_range", "max_calib_range", "ndev", "key"], (n, i) =>
            [Nd.BatchNorm(i[0], i[1], i[2], i[3], i[4], A.Double(n, "eps", 1e-3), A.Double(n, "momentum", 0.9),
                A.Bool(n, "fix_gamma", true), A.Bool(n, "use_global_stats", false), A.Int(n, "axis", 1))])
        {
            ParameterShape = (n, _, x) => new Shape(x[x.NormalizeAxis(A.Int(n, "axis", 1), "BatchNorm")]),
            Inputs = (_, c) => c == 5,
            Check = n =>
            {
                if (A.Bool(n, "output_mean_var", false))
                    throw new NotSupportedException("output_mean_var=True is not supported.");
            },
        }, "BatchNorm", "BatchNorm_v1", "SyncBatchNorm", "_contrib_SyncBatchNorm");

        Add(new Handler(["axis", "eps", "output_mean_var"], (n, i) =>
            SampleNormOps.LayerNorm.Invoke(new LayerNormAttrs(A.Int(n, "axis", -1), A.Double(n, "eps", 1e-5)), i))
        {
            ParameterShape = (n, _, x) => new Shape(x[x.NormalizeAxis(A.Int(n, "axis", -1), "LayerNorm")]),
            Inputs = (_, c) => c == 3,
        }, "LayerNorm");

        Add(new Handler(["eps"], (n, i) =>
            SampleNormOps.InstanceNorm.Invoke(new InstanceNormAttrs(A.Double(n, "eps", 1e-3)), i))
        {
            ParameterShape = (_, _, x) => new Shape(x[1]),
            Inputs = (_, c) => c == 3,
        }, "InstanceNorm");

        Add(new Handler(["num_groups", "eps", "output_mean_var"], (n, i) =>
            SampleNormOps.GroupNorm.Invoke(new GroupNormAttrs(A.Int(n, "num_groups", 1), A.Double(n, "eps", 1e-5)),
                i))
        {
            ParameterShape = (n, _, _) => new Shape(A.Int(n, "num_groups", 1)),
            Inputs = (_, c) => c == 3,
        }, "GroupNorm");

        Add(new Handler(["p", "mode", "axes", "cudnn_off"], Dropout)
        {
            Check = n =>
            {
                if (A.Tuple(n, "axes") is { Length: > 0 })
                    throw new NotSupportedException("dropout with shared axes is not supported.");
            },
        }, "Dropout");

        Add(new Handler(["dim", "num_args"], (n, i) => [Nd.Concat(A.Int(n, "dim", 1), i)]), "Concat", "concat",
            "_rnn_param_concat");
        Add(new Handler([], (_, i) => [i[0].Reshape(i[0].Shape.Rank == 0 ? 1 : i[0].Shape[0], -1)]), "Flatten",
            "flatten");
        Add(new Handler(["shape", "reverse", "target_shape", "keep_highest"], Reshape)
        {
            Check = n =>
            {
                if (A.Bool(n, "reverse", false)) throw new NotSupportedException("reverse=True is not supported.");
                if (A.Tuple(n, "target_shape") is { Length: > 0 })
                    throw new NotSupportedException("the pre-0.9 target_shape form is not supported; use shape.");
            },
        }, "Reshape", "reshape");
        Add(new Handler(["axes"], (n, i) => [i[0].Transpose(A.Tuple(n, "axes") ?? [])]), "transpose");
        Add(new Handler(["dim1", "dim2"], SwapAxes), "SwapAxis", "swapaxes");
        Add(new Handler(["axis"], ExpandDims), "expand_dims");
        Add(new Handler(["axis"], Squeeze), "squeeze");
        Add(new Handler(["axis", "begin", "end"], SliceAxis), "slice_axis");
        Add(new Handler(["begin", "end", "step"], Slice), "slice", "crop");
        Add(new Handler(["num_outputs", "axis", "squeeze_axis"], Split), "SliceChannel", "split");
        Add(new Handler(["a_min", "a_max"], (n, i) =>
            [Nd.Clip(i[0], A.RequiredDouble(n, "a_min"), A.RequiredDouble(n, "a_max"))]), "clip");

        Add(Binary(Nd.Add), "elemwise_add", "_plus", "_Plus", "_add", "broadcast_add", "broadcast_plus", "_grad_add");
        Add(Binary(Nd.Subtract), "elemwise_sub", "_minus", "_Minus", "_sub", "broadcast_sub", "broadcast_minus");
        Add(Binary(Nd.Multiply), "elemwise_mul", "_mul", "_Mul", "broadcast_mul");
        Add(Binary(Nd.Divide), "elemwise_div", "_div", "_Div", "broadcast_div");
        Add(Binary(Nd.Maximum), "_maximum", "_Maximum", "broadcast_maximum");
        Add(Binary(Nd.Minimum), "_minimum", "_Minimum", "broadcast_minimum");
        Add(Binary(Nd.Power), "_power", "_Power", "broadcast_power");
        Add(Binary(Nd.Equal), "_equal", "broadcast_equal");
        Add(Binary(Nd.NotEqual), "_not_equal", "broadcast_not_equal");
        Add(Binary(Nd.Greater), "_greater", "broadcast_greater");
        Add(Binary(Nd.GreaterEqual), "_greater_equal", "broadcast_greater_equal");
        Add(Binary(Nd.Lesser), "_lesser", "broadcast_lesser");
        Add(Binary(Nd.LesserEqual), "_lesser_equal", "broadcast_lesser_equal");

        Add(Scalar((x, s) => Nd.Add(x, s)), "_plus_scalar", "_PlusScalar");
        Add(Scalar((x, s) => Nd.Subtract(x, s)), "_minus_scalar", "_MinusScalar");
        Add(Scalar((x, s) => Nd.Subtract(s, x)), "_rminus_scalar", "_RMinusScalar");
        Add(Scalar((x, s) => Nd.Multiply(x, s)), "_mul_scalar", "_MulScalar");
        Add(Scalar((x, s) => Nd.Divide(x, s)), "_div_scalar", "_DivScalar");
        Add(Scalar((x, s) => Nd.Divide(s, x)), "_rdiv_scalar", "_RDivScalar");
        Add(Scalar((x, s) => Nd.Power(x, s)), "_power_scalar", "_PowerScalar");
        Add(Scalar((x, s) => Nd.Maximum(x, s)), "_maximum_scalar", "_MaximumScalar");
        Add(Scalar((x, s) => Nd.Minimum(x, s)), "_minimum_scalar", "_MinimumScalar");

        Add(Scalar((x, s) => Nd.Power(Nd.Scalar(s, x.DType, x.Device), x)), "_rpower_scalar", "_RPowerScalar");
        Add(Scalar((x, s) => Nd.Equal(x, Nd.Scalar(s, x.DType, x.Device))), "_equal_scalar");
        Add(Scalar((x, s) => Nd.NotEqual(x, Nd.Scalar(s, x.DType, x.Device))), "_not_equal_scalar");
        Add(Scalar((x, s) => Nd.Greater(x, Nd.Scalar(s, x.DType, x.Device))), "_greater_scalar");
        Add(Scalar((x, s) => Nd.GreaterEqual(x, Nd.Scalar(s, x.DType, x.Device))), "_greater_equal_scalar");
        Add(Scalar((x, s) => Nd.Lesser(x, Nd.Scalar(s, x.DType, x.Device))), "_lesser_scalar");
        Add(Scalar((x, s) => Nd.LesserEqual(x, Nd.Scalar(s, x.DType, x.Device))), "_lesser_equal_scalar");

        Add(Unary(Nd.Relu), "relu");
        Add(Unary(Nd.Sigmoid), "sigmoid");
        Add(Unary(Nd.Tanh), "tanh");
        Add(Unary(Nd.SoftSign), "softsign");
        Add(Unary(Nd.Exp), "exp");
        Add(Unary(Nd.Log), "log");
        Add(Unary(Nd.Sqrt), "sqrt");
        Add(Unary(Nd.Rsqrt), "rsqrt");
        Add(Unary(Nd.Square), "square");
        Add(Unary(Nd.Abs), "abs");
        Add(Unary(Nd.Negative), "negative");
        Add(Unary(Nd.Reciprocal), "reciprocal");
        Add(Unary(Nd.Sign), "sign");
        Add(Unary(Nd.Copy), "_copy", "identity", "BlockGrad", "stop_gradient");

        Add(Reduce(Nd.Sum), "sum", "sum_axis");
        Add(Reduce(Nd.Mean), "mean");
        Add(Reduce(Nd.Max), "max", "max_axis");
        Add(Reduce(Nd.Min), "min", "min_axis");
        Add(Reduce(Nd.Prod), "prod");
        Add(new Handler(["ord", "axis", "keepdims", "out_dtype"], (n, i) =>
        {
            var axes = A.Tuple(n, "axis");
            var y = Nd.Norm(i[0], axes is { Length: > 0 } ? axes : null, A.Bool(n, "keepdims", false));
            return [axes is { Length: > 0 } || A.Bool(n, "keepdims", false) ? y : y.Reshape(1)];
        })
        {
            Check = n =>
            {
                if (A.Int(n, "ord", 2) != 2) throw new NotSupportedException("only ord=2 is supported.");
            },
        }, "norm");
        Add(new Handler(["axis", "mode"], (n, i) => [Nd.Take(i[0], i[1], A.Int(n, "axis", 0),
            A.String(n, "mode", "clip") switch
            {
                "wrap" => TakeMode.Wrap,
                "raise" => TakeMode.Raise,
                _ => TakeMode.Clip,
            })]), "take");
        Add(new Handler(["axis", "keepdims"], (n, i) =>
        {
            int axis = A.Raw(n, "axis") is null
                ? throw new NotSupportedException("argmax without axis is not supported.") : A.Int(n, "axis", 0);
            return [n.Op == "argmax" ? Nd.ArgMax(i[0], axis, A.Bool(n, "keepdims", false))
                : Nd.ArgMin(i[0], axis, A.Bool(n, "keepdims", false))];
        }), "argmax", "argmin");

        Add(new Handler(["axis", "temperature", "dtype", "use_length"], (n, i) =>
            [n.Op == "softmax" ? Nd.Softmax(i[0], A.Int(n, "axis", -1), A.Double(n, "temperature", 1))
                : Nd.LogSoftmax(i[0], A.Int(n, "axis", -1), A.Double(n, "temperature", 1))])
        {
            Check = n =>
            {
                if (A.Bool(n, "use_length", false))
                    throw new NotSupportedException("use_length=True is not supported.");
            },
        }, "softmax", "log_softmax");
        Add(new Handler(["grad_scale", "ignore_label", "multi_output", "use_ignore", "preserve_shape",
            "normalization", "out_grad", "smooth_alpha"], SoftmaxOutput), "SoftmaxOutput", "Softmax");
        Add(new Handler(["mode"], (n, i) => A.String(n, "mode", "instance") == "channel"
            ? [Nd.Softmax(i[0], 1)]
            : [Nd.Softmax(i[0].Reshape(i[0].Shape[0], -1), -1).Reshape(i[0].Shape)]), "SoftmaxActivation");

        Add(new Handler(["input_dim", "output_dim", "dtype", "sparse_grad"], (_, i) => [Nd.Embedding(i[0], i[1])])
        {
            ParameterShape = (n, _, _) => new Shape(A.RequiredInt(n, "input_dim"), A.RequiredInt(n, "output_dim")),
        }, "Embedding");
        Add(new Handler(["dtype"], (n, i) => [i[0].AsType(DTypeExtensions.Parse(A.String(n, "dtype", "float32")))]),
            "Cast", "cast");
        Add(new Handler(["transpose_a", "transpose_b", "forward_stype"], (n, i) =>
            [n.Op == "dot" ? Nd.Dot(i[0], i[1], A.Bool(n, "transpose_a", false), A.Bool(n, "transpose_b", false))
                : Nd.BatchDot(i[0], i[1], A.Bool(n, "transpose_a", false), A.Bool(n, "transpose_b", false))]),
            "dot", "batch_dot");
        Add(new Handler(["shape"], (n, i) =>
        {
            var target = A.RequiredTuple(n, "shape");
            var dims = target.Select((d, k) => d == 0 ? i[0].Shape[k] : d).ToArray();
            return [Nd.BroadcastTo(i[0], new Shape(dims))];
        }), "broadcast_to");
        Add(new Handler([], (_, i) => [Nd.Where(i[0], i[1], i[2])]), "where");
        Add(new Handler(["shape", "value", "dtype", "ctx"], (n, _) =>
        [
            Nd.Full(new Shape(A.Tuple(n, "shape") ?? []), n.Op switch
            {
                "_zeros" => 0, "_ones" => 1, _ => A.RequiredDouble(n, "value"),
            }, DTypeExtensions.Parse(A.String(n, "dtype", "float32"))),
        ]), "_full", "_zeros", "_ones");
        Add(new Handler(["mode", "pad_width", "constant_value"], Pad), "Pad", "pad");
        AddDeconvolution(h);
        Add(new Handler(["state_size", "num_layers", "mode", "bidirectional", "p", "state_outputs",
            "projection_size", "lstm_state_clip_min", "lstm_state_clip_max", "lstm_state_clip_nan",
            "use_sequence_length"], Rnn)
        {
            Inputs = (n, c) => c == (A.String(n, "mode", "") == "lstm" ? 4 : 3),
            Check = n =>
            {
                _ = RnnModeOf(n);
                if (A.Raw(n, "projection_size") is not (null or "None"))
                    throw new NotSupportedException("projection_size (LSTMP) is not supported.");
                if (A.Bool(n, "use_sequence_length", false))
                    throw new NotSupportedException("use_sequence_length is not supported.");
                if (A.Raw(n, "lstm_state_clip_min") is not (null or "None") ||
                    A.Raw(n, "lstm_state_clip_max") is not (null or "None"))
                    throw new NotSupportedException("lstm_state_clip_min/max are not supported.");
            },
        }, "RNN");
        return h;
    }

    private static Handler Binary(Func<NDArray, NDArray, NDArray> f) => new([], (_, i) => [f(i[0], i[1])])
    {
        Inputs = (_, c) => c == 2,
    };

    private static Handler Unary(Func<NDArray, NDArray> f) => new([], (_, i) => [f(i[0])]);

    private static Handler Scalar(Func<NDArray, double, NDArray> f) => new(["scalar", "is_int"], (n, i) =>
        [f(i[0], A.Double(n, "scalar", 0))]);

    private static Handler Reduce(Func<NDArray, int[]?, bool, NDArray> f) => new(["axis", "keepdims", "exclude"],
        (n, i) =>
        {
            var x = i[0];
            var axes = A.Tuple(n, "axis");
            bool keep = A.Bool(n, "keepdims", false);
            if (axes is not null)
                axes = axes.Select(a => x.Shape.NormalizeAxis(a, n.Op)).ToArray();
            if (A.Bool(n, "exclude", false))
                axes = Enumerable.Range(0, x.Rank).Where(a => axes is null || !axes.Contains(a)).ToArray();
            if (axes is null || axes.Length == 0)
            {
                // MXNet reduces everything to shape (1,), not to a scalar.
                var all = f(x, null, keep);
                return [keep ? all : all.Reshape(1)];
            }
            return [f(x, axes, keep)];
        });

    private static string ActivationKnown(string type) => type is "relu" or "sigmoid" or "tanh" or "softrelu"
        or "softsign" ? type : throw new NotSupportedException(
            $"act_type '{type}' is not supported; relu, sigmoid, tanh, softrelu and softsign are.");

    private static NDArray Activation(string type, NDArray x) => ActivationKnown(type) switch
    {
        "relu" => Nd.Relu(x),
        "sigmoid" => Nd.Sigmoid(x),
        "tanh" => Nd.Tanh(x),
        "softrelu" => Nd.SoftRelu(x),
        _ => Nd.SoftSign(x),
    };

    private static NDArray[] Convolution(SymbolNode n, NDArray[] i)
    {
        var kernel = A.RequiredTuple(n, "kernel");
        var w = i[1].Shape;
        if (w.Rank != kernel.Length + 2 || !w.Dims[2..].ToArray().SequenceEqual(kernel))
            throw new ArgumentException($"weight has shape {w} but kernel is {Format.Tuple(kernel)}.");
        if (w[0] != A.RequiredInt(n, "num_filter"))
            throw new ArgumentException(
                $"weight has {w[0]} filters but num_filter is {A.RequiredInt(n, "num_filter")}.");
        int spatial = kernel.Length;
        return [Nd.Convolution(i[0], i[1], A.Bool(n, "no_bias", false) ? null : i[2],
            A.Tuple(n, "stride") is { Length: > 0 } s ? s : Ones(spatial),
            A.Tuple(n, "pad") is { Length: > 0 } p ? p : new int[spatial],
            A.Tuple(n, "dilate") is { Length: > 0 } d ? d : Ones(spatial), A.Int(n, "num_group", 1))];
    }

    private static int[] Ones(int n) => Enumerable.Repeat(1, n).ToArray();

    private static NDArray[] Pooling(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        int spatial = x.Rank - 2;
        string type = A.String(n, "pool_type", "max");
        bool global = A.Bool(n, "global_pool", false);
        var kernel = global ? Ones(spatial) : A.RequiredTuple(n, "kernel");
        var stride = global ? Ones(spatial) : A.Tuple(n, "stride") is { Length: > 0 } s ? s : Ones(spatial);
        var pad = global ? new int[spatial] : A.Tuple(n, "pad") is { Length: > 0 } p ? p : new int[spatial];
        var convention = A.String(n, "pooling_convention", "valid") == "full" ? PoolingConvention.Full
            : PoolingConvention.Valid;
        bool includePad = A.Bool(n, "count_include_pad", true);
        var y = Nd.Pooling(x, kernel, type == "max" ? PoolingMode.Max : PoolingMode.Avg, stride, pad, global,
            convention, type == "sum" || includePad);
        if (type != "sum") return [y];
        // sum pooling = average over the full window times the window size.
        double size = global ? x.Shape.SizeOf(2, x.Rank) : kernel.Aggregate(1, (a, b) => a * b);
        return [y * size];
    }

    private static NDArray[] LeakyRelu(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        double slope = A.Double(n, "slope", 0.25);
        switch (A.String(n, "act_type", "leaky"))
        {
            case "prelu":
                // gamma per channel (axis 1), or one value, in any shape holding that many.
                return [Nd.PRelu(x, i[1].Rank == 1 ? i[1] : i[1].Reshape(-1))];
            case "elu":
                return [Nd.Elu(x, slope)];
            case "selu":
                return [Nd.Selu(x)];
            case "gelu":
                return [Nd.Gelu(x)];
            case "rrelu":
            {
                // At inference the slope is the middle of its range.
                double mid = (A.Double(n, "lower_bound", 0.125) + A.Double(n, "upper_bound", 0.334)) / 2;
                return [Nd.LeakyRelu(x, mid), Nd.OnesLike(x)];
            }
            default:
                return [Nd.LeakyRelu(x, slope)];
        }
    }

    private static NDArray[] Dropout(SymbolNode n, NDArray[] i)
    {
        double p = A.Double(n, "p", 0.5);
        bool always = A.String(n, "mode", "training") == "always";
        return RandomOps.Dropout.Invoke(new DropoutAttrs(p, always).Resolve(i[0].Size), i[0]);
    }

    private static NDArray[] Reshape(SymbolNode n, NDArray[] i) =>
        [i[0].Reshape(A.Tuple(n, "shape") ?? throw new FormatException("Reshape needs a shape."))];

    private static NDArray[] SwapAxes(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        int a = x.Shape.NormalizeAxis(A.Int(n, "dim1", 0), "swapaxes");
        int b = x.Shape.NormalizeAxis(A.Int(n, "dim2", 0), "swapaxes");
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return [x.Transpose(perm)];
    }

    private static NDArray[] ExpandDims(SymbolNode n, NDArray[] i)
    {
        var dims = i[0].Shape.ToArray().ToList();
        int axis = A.RequiredInt(n, "axis");
        if (axis < 0) axis += dims.Count + 1;
        if (axis < 0 || axis > dims.Count)
            throw new ArgumentException($"axis {A.RequiredInt(n, "axis")} is out of range for shape {i[0].Shape}.");
        dims.Insert(axis, 1);
        return [i[0].Reshape(dims.ToArray())];
    }

    private static NDArray[] Squeeze(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        var axes = A.Tuple(n, "axis")?.Select(a => x.Shape.NormalizeAxis(a, "squeeze")).ToHashSet();
        var dims = x.Shape.ToArray().Where((d, k) => axes is null ? d != 1 : !axes.Contains(k)).ToArray();
        return [x.Reshape(dims.Length == 0 ? [1] : dims)];
    }

    private static NDArray[] SliceAxis(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        int axis = x.Shape.NormalizeAxis(A.RequiredInt(n, "axis"), "slice_axis");
        int begin = A.RequiredInt(n, "begin");
        int end = A.Raw(n, "end") is null ? x.Shape[axis] : A.Int(n, "end", 0);
        return [x.SliceAxis(axis, begin, end).Copy()];
    }

    private static NDArray[] Slice(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        var begin = A.OptionalTuple(n, "begin") ?? throw new FormatException("slice needs begin.");
        var end = A.OptionalTuple(n, "end") ?? throw new FormatException("slice needs end.");
        var step = A.OptionalTuple(n, "step") ?? [];
        var y = x;
        for (int a = 0; a < begin.Length; a++)
        {
            int s = a < step.Length && step[a] is { } st ? st : 1;
            int b = begin[a] ?? (s > 0 ? 0 : x.Shape[a] - 1);
            int e = a < end.Length && end[a] is { } en ? en : (s > 0 ? x.Shape[a] : -x.Shape[a] - 1);
            y = y.SliceAxis(a, b, e, s);
        }
        return [y.Copy()];
    }

    private static NDArray[] Split(SymbolNode n, NDArray[] i)
    {
        var x = i[0];
        int count = A.RequiredInt(n, "num_outputs");
        int axis = x.Shape.NormalizeAxis(A.Int(n, "axis", 1), "SliceChannel");
        var parts = Nd.Split(x, count, axis);
        if (!A.Bool(n, "squeeze_axis", false)) return parts;
        return parts.Select(p => p.Reshape(p.Shape.ToArray().Where((_, k) => k != axis).ToArray())).ToArray();
    }

    private static NDArray[] SoftmaxOutput(SymbolNode n, NDArray[] i)
    {
        // The forward pass is a plain softmax; the label input is read only by the training gradient.
        var x = i[0];
        if (A.Bool(n, "preserve_shape", false)) return [Nd.Softmax(x, -1)];
        if (A.Bool(n, "multi_output", false)) return [Nd.Softmax(x, 1)];
        return [Nd.Softmax(x.Reshape(x.Shape[0], -1), -1).Reshape(x.Shape)];
    }

    private static NDArray[] Pad(SymbolNode n, NDArray[] i)
    {
        var width = A.RequiredTuple(n, "pad_width");
        var x = i[0];
        if (width.Length != 2 * x.Rank)
            throw new ArgumentException(
                $"pad_width {Format.Tuple(width)} needs {2 * x.Rank} values for shape {x.Shape}.");
        var mode = A.String(n, "mode", "constant") switch
        {
            "constant" => PadMode.Constant,
            "edge" => PadMode.Edge,
            "reflect" => PadMode.Reflect,
            var m => throw new NotSupportedException($"pad mode {m} is not supported."),
        };
        var before = Enumerable.Range(0, x.Rank).Select(k => width[2 * k]).ToArray();
        var after = Enumerable.Range(0, x.Rank).Select(k => width[2 * k + 1]).ToArray();
        return [Nd.Pad(x, before, after, mode, A.Double(n, "constant_value", 0))];
    }

    private static RnnMode RnnModeOf(SymbolNode n) => A.String(n, "mode", "") switch
    {
        "lstm" => RnnMode.Lstm,
        "gru" => RnnMode.Gru,
        "rnn_tanh" => RnnMode.RnnTanh,
        "rnn_relu" => RnnMode.RnnRelu,
        var m => throw new NotSupportedException(
            $"RNN mode '{m}' is unknown; MXNet's are rnn_relu, rnn_tanh, lstm, gru."),
    };

    private static NDArray[] Rnn(SymbolNode n, NDArray[] i)
    {
        var mode = RnnModeOf(n);
        var outputs = Nd.Rnn(i[0], i[1], i[2], mode == RnnMode.Lstm ? i[3] : null, mode, A.RequiredInt(n, "state_size"),
            A.RequiredInt(n, "num_layers"), A.Bool(n, "bidirectional", false), A.Double(n, "p", 0));
        return A.Bool(n, "state_outputs", false) ? outputs : [outputs[0]];
    }
}
