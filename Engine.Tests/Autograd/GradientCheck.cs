using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Autograd;

/// <summary>One finite-difference check: an operator, its attributes and float64 inputs.</summary>
public sealed record GradientCase(string Op, OpAttrs Attrs, Func<Random, NDArray[]> Inputs, string Label = "",
    int[]? NonDifferentiableInputs = null, int? DifferentiableOutputs = null)
{
    public override string ToString() => string.IsNullOrEmpty(Label) ? Op : $"{Op} {Label}";
}

/// <summary>
/// Compares autograd's gradient with central differences in float64: loss = sum(w * op(x)) for fixed random w, so
/// every output element carries a distinct head gradient.
/// </summary>
public static class GradientCheck
{
    public static readonly Tolerance Tolerance = Tolerances.FiniteDifference;

    public const double Epsilon = 1e-6;

    public static void Run(GradientCase c, int seed = 7)
    {
        var rng = new Random(seed);
        var op = OpRegistry.Get(c.Op);
        var inputs = c.Inputs(rng);
        var skip = new HashSet<int>(c.NonDifferentiableInputs ?? []);
        try
        {
            foreach (var (x, i) in inputs.Select((x, i) => (x, i)))
                if (!skip.Contains(i)) x.AttachGrad();
            NDArray[] outputs;
            using (Engine.Autograd.Record()) outputs = op.Invoke(c.Attrs, inputs);
            // Hidden outputs (BatchNorm's saved statistics) get zero head gradient, as MXNet treats them.
            var weights = outputs.Select((o, k) => k < (c.DifferentiableOutputs ?? outputs.Length)
                ? Nd.Array(TestData.UniformDouble(rng, o.Size, 0.5, 1.5), o.Shape) : Nd.ZerosLike(o)).ToArray();
            Engine.Autograd.Backward(outputs, weights);

            for (int i = 0; i < inputs.Length; i++)
            {
                if (skip.Contains(i)) continue;
                var x = inputs[i];
                var analytic = x.Grad!.ToArray<double>();
                var numeric = Numeric(op, c.Attrs, inputs, i, weights);
                TensorAssert.AllClose(analytic, numeric, Tolerance, $"{c}: d/d input {i} {x.Shape}");
            }
            foreach (var o in outputs) o.Dispose();
            foreach (var w in weights) w.Dispose();
        }
        finally
        {
            foreach (var x in inputs) x.Dispose();
        }
    }

    private static double[] Numeric(OpDef op, OpAttrs attrs, NDArray[] inputs, int which, NDArray[] weights)
    {
        var x = inputs[which];
        var values = x.ToArray<double>();
        var grad = new double[values.Length];
        for (int k = 0; k < values.Length; k++)
        {
            double saved = values[k];
            values[k] = saved + Epsilon;
            double plus = Loss(op, attrs, inputs, which, values, x.Shape, weights);
            values[k] = saved - Epsilon;
            double minus = Loss(op, attrs, inputs, which, values, x.Shape, weights);
            values[k] = saved;
            grad[k] = (plus - minus) / (2 * Epsilon);
        }
        return grad;
    }

    private static double Loss(OpDef op, OpAttrs attrs, NDArray[] inputs, int which, double[] values, Shape shape,
        NDArray[] weights)
    {
        using var scope = NDArray.Scope();
        var args = (NDArray[])inputs.Clone();
        args[which] = Nd.Array(values, shape);
        var outs = op.Invoke(attrs, args);
        double total = 0;
        for (int o = 0; o < outs.Length; o++)
        {
            var y = outs[o].ToArray<double>();
            var w = weights[o].ToArray<double>();
            for (int k = 0; k < y.Length; k++) total += y[k] * w[k];
        }
        return total;
    }
}
