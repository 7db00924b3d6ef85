using Engine.Kernels;
using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Autograd;

/// <summary>Finite-difference cases of the fused RNN op: every mode, stacked and bidirectional, with dropout.</summary>
public static class RecurrentGradientCases
{
    private static NDArray Rand(Random rng, double low, double high, params int[] shape) =>
        Nd.Array(TestData.UniformDouble(rng, new Shape(shape).Size, low, high), new Shape(shape));

    /// <summary>The inputs of an RNN op call on (seq, batch, input) data.</summary>
    public static Func<Random, NDArray[]> Inputs(RnnAttrs a, int seq, int batch, int input) => r =>
    {
        var d = a.Describe(new Shape(seq, batch, input));
        var state = new[] { a.NumLayers * a.Directions, batch, a.StateSize };
        NDArray[] common = [Rand(r, -1, 1, seq, batch, input), Rand(r, -0.6, 0.6, (int)d.ParameterCount),
            Rand(r, -0.5, 0.5, state)];
        return a.Mode == RnnMode.Lstm ? [.. common, Rand(r, -0.5, 0.5, state)] : common;
    };

    public static IEnumerable<GradientCase> Cases()
    {
        var lstm = new RnnAttrs(RnnMode.Lstm, 4, 2, Bidirectional: true);
        yield return new GradientCase("rnn", lstm, Inputs(lstm, 3, 2, 3), "lstm 2 layers bidirectional",
            DifferentiableOutputs: 3);
        var gru = new RnnAttrs(RnnMode.Gru, 3, 2, Bidirectional: true);
        yield return new GradientCase("rnn", gru, Inputs(gru, 3, 2, 3), "gru 2 layers bidirectional",
            DifferentiableOutputs: 3);
        var tanh = new RnnAttrs(RnnMode.RnnTanh, 5, 1);
        yield return new GradientCase("rnn", tanh, Inputs(tanh, 4, 2, 3), "rnn_tanh", DifferentiableOutputs: 3);
        var relu = new RnnAttrs(RnnMode.RnnRelu, 4, 2);
        yield return new GradientCase("rnn", relu, Inputs(relu, 3, 2, 3), "rnn_relu 2 layers",
            DifferentiableOutputs: 3);
        // One step, both directions: no step has a previous output, so dW_h comes from h0 alone.
        var single = new RnnAttrs(RnnMode.Gru, 3, 1, Bidirectional: true);
        yield return new GradientCase("rnn", single, Inputs(single, 1, 2, 3), "gru bidirectional one step",
            DifferentiableOutputs: 3);
        // Dropout between layers with fixed counters: the same mask on every evaluation.
        var dropout = new RnnAttrs(RnnMode.Lstm, 3, 2, P: 0.4, Training: true, Seed: 5, Offset: 0);
        yield return new GradientCase("rnn", dropout, Inputs(dropout, 3, 2, 2), "lstm dropout",
            DifferentiableOutputs: 3);
    }

    /// <summary>A forward case of the backward op: inputs from a real forward call.</summary>
    public static GradientCase BackwardCase()
    {
        var a = new RnnAttrs(RnnMode.Gru, 3, 2, Bidirectional: true);
        return new GradientCase("_backward_rnn", a, r =>
        {
            var inputs = Inputs(a, 3, 2, 2)(r);
            var o = RecurrentOps.Rnn.Invoke(a, inputs);
            return [.. inputs, o[0], o[3], Rand(r, -1, 1, 3, 2, 6), Rand(r, -1, 1, 4, 2, 3)];
        });
    }
}
