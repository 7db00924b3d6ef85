using Engine.Ops;

namespace Engine.Graphs.MXNetJson;

/// <summary>
/// Turns a traced graph of this engine's operators into an MXNet 1.x symbol: each node becomes the MXNet operator
/// with the same meaning and MXNet's string attributes (fully_connected becomes FullyConnected, add becomes
/// elemwise_add or broadcast_add, add with a captured scalar becomes _plus_scalar). A node whose operator has no
/// MXNet counterpart is an error naming it. Captured non-scalar constants become variables saved as arguments.
/// </summary>
public static class GraphExport
{
    /// <summary>The symbol, and the values of constants that became variables (saved with <c>arg:</c> keys).</summary>
    public sealed record Result(Symbol Symbol, IReadOnlyList<KeyValuePair<string, NDArray>> Constants);

    /// <param name="graph">A traced graph.</param>
    /// <param name="variableAttributes">Dunder attributes of a parameter variable (__shape__, __dtype__, ...).</param>
    public static Result ToSymbol(Graph graph,
        Func<Node, IReadOnlyDictionary<string, string>>? variableAttributes = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var map = new Dictionary<Node, SymbolNode>(ReferenceEqualityComparer.Instance);
        var constants = new List<KeyValuePair<string, NDArray>>();
        // The concat that builds an RNN op's parameter vector is MXNet's _rnn_param_concat, as Gluon writes it.
        var rnnParameters = graph.Nodes.Where(n => n.Op?.Name == "rnn").Select(n => n.Inputs[1].Node)
            .ToHashSet(ReferenceEqualityComparer.Instance);
        SymbolEntry Entry(NodeOutput o)
        {
            if (!map.TryGetValue(o.Node, out var s))
            {
                // A constant read as a tensor: a variable whose value is saved with the parameters.
                var c = o.Node;
                s = new SymbolNode("null", c.Name, TypeAttributes(c.OutputTypes[0]), null);
                map[c] = s;
                constants.Add(new(c.Name, c.Value!));
            }
            return new SymbolEntry(s, o.Index);
        }
        foreach (var n in graph.Nodes)
        {
            switch (n.Kind)
            {
                case NodeKind.Input:
                    map[n] = new SymbolNode("null", n.Name, null, null);
                    continue;
                case NodeKind.Parameter:
                    var hints = variableAttributes?.Invoke(n) ?? TypeAttributes(n.OutputTypes[0]);
                    map[n] = new SymbolNode("null", n.Name, hints, null);
                    continue;
                case NodeKind.Constant:
                    continue;
            }
            var (op, attrs, inputs) = Map(n);
            if (op == "Concat" && rnnParameters.Contains(n)) op = "_rnn_param_concat";
            map[n] = new SymbolNode(op, n.Name, attrs, inputs.Select(Entry).ToList());
        }
        var heads = graph.Outputs.Select(Entry).ToList();
        return new Result(new Symbol(heads), constants);
    }

    /// <summary>MXNet's variable hints for a type: __dtype__ and __shape__.</summary>
    public static Dictionary<string, string> TypeAttributes(TensorType t) => new()
    {
        ["__dtype__"] = MXNetOps.DTypeCode(t.DType).ToString(), ["__shape__"] = Format.Tuple(t.Shape.ToArray()),
    };

    private static (string Op, Dictionary<string, string> Attrs, IReadOnlyList<NodeOutput> Inputs) Map(Node n)
    {
        var op = n.Op!;
        var a = n.Attrs!;
        var inputs = n.Inputs;
        Dictionary<string, string> Attrs(params (string Key, string Value)[] kv) =>
            kv.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Dictionary<string, string> Own() => a.ToDictionary().ToDictionary(kv => kv.Key, kv => Python(kv.Value));
        switch (op.Name)
        {
            case "fully_connected":
                return ("FullyConnected", Own(), inputs);
            case "convolution":
            {
                var c = (ConvolutionAttrs)a;
                var w = inputs[1].Type.Shape;
                var attrs = Own();
                attrs["kernel"] = Format.Tuple(w.Dims[2..].ToArray());
                attrs["num_filter"] = w[0].ToString();
                attrs["layout"] = Layout(c.Stride.Length);
                return ("Convolution", attrs, inputs);
            }
            case "deconvolution":
            {
                var d = (DeconvolutionAttrs)a;
                var w = inputs[1].Type.Shape;
                var attrs = Own();
                attrs["kernel"] = Format.Tuple(w.Dims[2..].ToArray());
                attrs["num_filter"] = (w[1] * d.NumGroup).ToString();
                attrs["layout"] = Layout(w.Rank - 2);
                return ("Deconvolution", attrs, inputs);
            }
            case "pooling":
            {
                var p = (PoolingAttrs)a;
                var attrs = Own();
                if (p.Mode != Kernels.PoolingMode.Avg) attrs.Remove("count_include_pad");
                attrs["layout"] = Layout(inputs[0].Type.Shape.Rank - 2);
                return ("Pooling", attrs, inputs);
            }
            case "batch_norm":
                return ("BatchNorm", Own(), inputs);
            case "rnn":
                return ("RNN", Own(), inputs);
            case "relu" or "sigmoid" or "tanh" or "softrelu" or "softsign":
                return ("Activation", Attrs(("act_type", op.Name)), inputs);
            case "leaky_relu" or "elu":
                return ("LeakyReLU", Own(), inputs);
            case "selu" or "gelu" or "prelu":
                return ("LeakyReLU", Attrs(("act_type", op.Name)), inputs);
            case "layer_norm":
                return ("LayerNorm", Own(), inputs);
            case "instance_norm":
                return ("InstanceNorm", Own(), inputs);
            case "group_norm":
                return ("GroupNorm", Own(), inputs);
            case "dropout":
            {
                var d = (DropoutAttrs)a;
                var attrs = Attrs(("p", MXNetOps.Number(d.P)));
                if (d.Always) attrs["mode"] = "always";
                return ("Dropout", attrs, inputs);
            }
            case "add" or "subtract" or "multiply" or "divide" or "maximum" or "minimum" or "power" or "equal"
                or "not_equal" or "greater" or "greater_equal" or "lesser" or "lesser_equal":
                return Binary(n);
            case "negative" or "abs" or "sign" or "square" or "exp" or "log" or "sqrt" or "rsqrt" or "reciprocal"
                or "where":
                return (op.Name, [], inputs);
            case "clip" or "transpose" or "argmax" or "argmin" or "broadcast_to" or "take":
                return (op.Name, Own(), inputs);
            case "reshape":
                return ("Reshape", Own(), inputs);
            case "slice_axis":
            {
                var s = (SliceAxisAttrs)a;
                if (s.Step != 1) throw NoCounterpart(n, "slice_axis with a step other than 1");
                return ("slice_axis", Own(), inputs);
            }
            case "concat":
            {
                var attrs = Own();
                attrs["num_args"] = inputs.Count.ToString();
                return ("Concat", attrs, inputs);
            }
            case "sum" or "mean" or "max" or "min" or "prod":
            {
                var r = (ReduceAttrs)a;
                var attrs = Attrs(("keepdims", Format.Bool(r.KeepDims)));
                if (r.Axes.Length > 0) attrs["axis"] = Format.Tuple(r.Axes);
                return (op.Name, attrs, inputs);
            }
            case "norm":
            {
                var r = (ReduceAttrs)a;
                var attrs = Attrs(("ord", "2"), ("keepdims", Format.Bool(r.KeepDims)));
                if (r.Axes.Length > 0) attrs["axis"] = Format.Tuple(r.Axes);
                return ("norm", attrs, inputs);
            }
            case "softmax" or "log_softmax":
            {
                var s = (SoftmaxAttrs)a;
                var attrs = Attrs(("axis", s.Axis.ToString()));
                if (s.Temperature != 1) attrs["temperature"] = MXNetOps.Number(s.Temperature);
                return (op.Name, attrs, inputs);
            }
            case "dot" or "batch_dot":
                return (op.Name, Own(), inputs);
            case "full":
            {
                var f = (FullAttrs)a;
                return ("_full", Attrs(("shape", Format.Tuple(f.Shape)), ("value", MXNetOps.Number(f.Value)),
                    ("dtype", f.DType.Name())), inputs);
            }
            case "copy":
                return ("_copy", [], inputs);
            case "cast":
                return ("Cast", Own(), inputs);
            case "pad":
            {
                var p = (PadAttrs)a;
                var width = Enumerable.Range(0, p.Before.Length).SelectMany(k => new[] { p.Before[k], p.After[k] });
                return ("Pad", Attrs(("mode", p.Mode.ToString().ToLowerInvariant()), ("pad_width", Format.Tuple(width)),
                    ("constant_value", MXNetOps.Number(p.Value))), inputs);
            }
            default:
                throw NoCounterpart(n, op.Name);
        }
    }

    // MXNet's layout name for channels-first data with this many spatial dimensions.
    private static string Layout(int spatial) => spatial switch { 1 => "NCW", 3 => "NCDHW", _ => "NCHW" };

    private static (string, Dictionary<string, string>, IReadOnlyList<NodeOutput>) Binary(Node n)
    {
        string name = n.Op!.Name;
        var x = n.Inputs[0];
        var y = n.Inputs[1];
        if (ScalarValue(y) is { } s)
        {
            string op = name switch
            {
                "add" => "_plus_scalar", "subtract" => "_minus_scalar", "multiply" => "_mul_scalar",
                "divide" => "_div_scalar", "power" => "_power_scalar", _ => $"_{name}_scalar",
            };
            return (op, Scalar(s), [x]);
        }
        if (ScalarValue(x) is { } r)
        {
            string op = name switch
            {
                "add" => "_plus_scalar", "subtract" => "_rminus_scalar", "multiply" => "_mul_scalar",
                "divide" => "_rdiv_scalar", "power" => "_rpower_scalar", "maximum" => "_maximum_scalar",
                "minimum" => "_minimum_scalar", "equal" => "_equal_scalar", "not_equal" => "_not_equal_scalar",
                "greater" => "_lesser_scalar", "greater_equal" => "_lesser_equal_scalar",
                "lesser" => "_greater_scalar", _ => "_greater_equal_scalar",
            };
            return (op, Scalar(r), [y]);
        }
        bool same = x.Type.Shape == y.Type.Shape;
        string mx = name switch
        {
            "add" => same ? "elemwise_add" : "broadcast_add",
            "subtract" => same ? "elemwise_sub" : "broadcast_sub",
            "multiply" => same ? "elemwise_mul" : "broadcast_mul",
            "divide" => same ? "elemwise_div" : "broadcast_div",
            _ => "broadcast_" + name,
        };
        return (mx, [], [x, y]);
    }

    private static Dictionary<string, string> Scalar(double v) => new() { ["scalar"] = MXNetOps.Number(v) };

    /// <summary>The value of a captured rank-0 constant (a scalar operand), else null.</summary>
    private static double? ScalarValue(NodeOutput o)
    {
        // A scalar made while tracing (x + 2) is a rank-0 full node; one made before is a captured constant.
        if (o.Node.Op?.Name == "full" && o.Node.Attrs is FullAttrs { Shape.Length: 0 } f) return f.Value;
        if (o.Node.Kind != NodeKind.Constant || o.Node.Value is not { } v || v.Shape.Rank != 0) return null;
        return v.DType switch
        {
            DType.Float32 => v.ToScalar<float>(),
            DType.Float64 => v.ToScalar<double>(),
            DType.Int32 => v.ToScalar<int>(),
            DType.Int64 => v.ToScalar<long>(),
            _ => null,
        };
    }

    /// <summary>Python's spelling of a number written by our attribute records (1E-05 becomes 1e-05).</summary>
    private static string Python(string value) =>
        value.Contains('E') && double.TryParse(value, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out _) ? value.Replace('E', 'e') : value;

    private static NotSupportedException NoCounterpart(Node n, string what) =>
        new($"export: node '{n.Name}' applies {what}, which has no MXNet 1.x counterpart, so the graph cannot be " +
            "written as symbol JSON. Express it with operators MXNet has (docs/hybridize.md lists the mapping).");
}
