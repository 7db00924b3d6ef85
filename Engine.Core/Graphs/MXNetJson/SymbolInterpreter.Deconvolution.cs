using A = Engine.Graphs.MXNetJson.Attribute;

namespace Engine.Graphs.MXNetJson;

// MXNet's Deconvolution (the transposed convolution behind Gluon's Conv1DTranspose, Conv2DTranspose and
// Conv3DTranspose), and the layout check the convolution-like operators share.
public sealed partial class SymbolInterpreter
{
    private static void AddDeconvolution(Dictionary<string, Handler> h)
    {
        // MXNet's operator default is no_bias=True here (Gluon's layers write no_bias=False when they have one).
        h["Deconvolution"] = new Handler(["kernel", "stride", "dilate", "pad", "adj", "target_shape", "num_filter",
            "num_group", "no_bias", "layout", "workspace", "cudnn_tune", "cudnn_off"], Deconvolution)
        {
            ParameterShape = (n, k, x) =>
            {
                int filters = A.RequiredInt(n, "num_filter");
                if (k == 2) return new Shape(filters);
                var kernel = A.RequiredTuple(n, "kernel");
                return new Shape([x[1], filters / A.Int(n, "num_group", 1), .. kernel]);
            },
            Inputs = (n, c) => c == (A.Bool(n, "no_bias", true) ? 2 : 3),
            Check = n =>
            {
                CheckLayout(n);
                if (A.RequiredTuple(n, "kernel").Length is not (1 or 2 or 3))
                    throw new NotSupportedException("only 1-D, 2-D and 3-D deconvolutions are supported.");
                if (A.RequiredInt(n, "num_filter") % A.Int(n, "num_group", 1) != 0)
                    throw new ArgumentException("num_filter must be divisible by num_group.");
            },
        };
    }

    private static NDArray[] Deconvolution(SymbolNode n, NDArray[] i)
    {
        var kernel = A.RequiredTuple(n, "kernel");
        var w = i[1].Shape;
        int groups = A.Int(n, "num_group", 1);
        if (w.Rank != kernel.Length + 2 || !w.Dims[2..].ToArray().SequenceEqual(kernel))
            throw new ArgumentException($"weight has shape {w} but kernel is {Ops.Format.Tuple(kernel)}.");
        if (w[1] * groups != A.RequiredInt(n, "num_filter"))
            throw new ArgumentException(
                $"weight {w} with num_group {groups} makes {w[1] * groups} filters but num_filter is " +
                $"{A.RequiredInt(n, "num_filter")}.");
        int spatial = kernel.Length;
        return [Nd.Deconvolution(i[0], i[1], A.Bool(n, "no_bias", true) ? null : i[2],
            A.Tuple(n, "stride") is { Length: > 0 } s ? s : Ones(spatial),
            A.Tuple(n, "pad") is { Length: > 0 } p ? p : new int[spatial],
            A.Tuple(n, "dilate") is { Length: > 0 } d ? d : Ones(spatial),
            A.Tuple(n, "adj") is { Length: > 0 } adj ? adj : new int[spatial],
            A.Tuple(n, "target_shape") ?? [], groups)];
    }

    private static void CheckLayout(SymbolNode n)
    {
        var layout = A.Raw(n, "layout");
        if (layout is not (null or "NCW" or "NCHW" or "NCDHW"))
            throw new NotSupportedException(
                $"layout {layout} is not supported; only the channels-first NCW, NCHW and NCDHW are.");
    }
}
