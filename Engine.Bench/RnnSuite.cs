using Engine.Gluon;
using Engine.Gluon.Rnn;

namespace Engine.Bench;

/// <summary>
/// The fused recurrent layers at the d2l language-model size: sequence 35, batch 32, input 128, hidden 256, two
/// layers, TNC, through the Gluon layers (Engine.Gluon.Rnn.LSTM and GRU, which run the fused RNN op):
/// "... fwd" is the forward pass outside recording, "... step" the forward pass under Autograd.Record and the
/// backward pass from the output (parameter and input gradients). tools/bench/torch_baseline.py times nn.LSTM and
/// nn.GRU the same way.
/// </summary>
public static class RnnSuite
{
    private const int Seq = 35, Batch = 32, Input = 128, Hidden = 256, Layers = 2;

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        foreach (var (name, create) in new (string, Func<RecurrentLayer>)[]
                 {
                     ("lstm", () => new LSTM(Hidden, Layers, inputSize: Input)),
                     ("gru", () => new GRU(Hidden, Layers, inputSize: Input)),
                 })
        {
            string size = $"{name} 2x{Hidden} in{Input} T{Seq} N{Batch}";
            string forward = size + " fwd", step = size + " step";
            bool wantForward = ctx.Wants(forward), wantStep = ctx.Wants(step);
            if (!wantForward && !wantStep) continue;
            RandomState.Seed(1);
            var layer = create();
            layer.Initialize();
            using var x = Nd.RandomNormal(0, 1, new Shape(Seq, Batch, Input));
            x.AttachGrad();
            using var head = Nd.RandomNormal(0, 1, new Shape(Seq, Batch, Hidden));
            if (wantForward)
            {
                yield return ctx.Measure(forward, () =>
                {
                    using var scope = NDArray.Scope();
                    layer.Call(x);
                });
            }
            if (wantStep)
            {
                yield return ctx.Measure(step, () =>
                {
                    using var scope = NDArray.Scope();
                    NDArray y;
                    using (Autograd.Record()) y = layer.Call(x);
                    Autograd.Backward([y], [head]);
                });
            }
        }
    }
}
