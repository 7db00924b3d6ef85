using Engine.Bench.Models;
using Engine.Diagnostics;

namespace Engine.Bench;

/// <summary>
/// One training step (forward, backward, SGD update) per model, built from Nd operators and Autograd (the update is
/// Nd.SgdUpdate, MXNet's sgd_update; torch.optim.SGD on the PyTorch side):
/// <code>
///   using (Autograd.Record()) loss = Nd.Mean(Nd.SoftmaxCrossEntropy(model.Forward(x), labels));
///   loss.Backward();
///   foreach (var w in parameters) Nd.SgdUpdate(w, w.Grad, lr);
/// </code>
/// on the MLP 784-256-10 and seed 003's LeNet at batch 256 and ResNet-18 (32x32) at batch 32, with fixed random
/// inputs and labels ("... step"); and the forward pass with the loss alone, in training mode without recording
/// ("... fwd"), which splits a step's time into forward and backward + update. Temporaries of a step are disposed
/// by an NDArray scope, as a training loop should. With --profile, each case runs <see cref="ProfiledCalls"/> more
/// times under <see cref="OpProfiler"/> and prints its per-operator table to stderr.
/// </summary>
public static class TrainSuite
{
    private const double LearningRate = 0.01;

    private const int ProfiledCalls = 20;

    /// <summary>The models by name (as <see cref="TrainModel.Name"/> gives it), so cases are chosen unbuilt.</summary>
    internal static readonly (string Name, Func<TrainModel> Create)[] Models =
    [
        ("mlp 784-256-10 b256", () => new MlpModel()),
        ("lenet b256", () => new LeNetModel()),
        ("resnet18 b32", () => new ResNet18Model()),
    ];

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        foreach (var (name, create) in Models)
        {
            string step = $"{name} step", forward = $"{name} fwd";
            bool wantStep = ctx.Wants(step), wantForward = ctx.Wants(forward);
            if (!wantStep && !wantForward) continue;
            using var model = Create(name, create);
            var batch = Batch(model);
            using var x = batch.X;
            using var labels = batch.Labels;
            if (wantStep)
            {
                float first = float.NaN, last = float.NaN;
                var result = ctx.Measure(step, () =>
                {
                    last = Step(model, x, labels);
                    if (float.IsNaN(first)) first = last;
                });
                // The same batch every step, so the loss must fall: a check that the step really trains.
                Console.Error.WriteLine($"{step}: loss {first:0.####} -> {last:0.####} over the timed steps");
                if (ctx.Profile) PrintProfile(ctx, step, () => Step(model, x, labels));
                yield return result;
            }
            if (wantForward)
            {
                var result = ctx.Measure(forward, () => Loss(model, x, labels));
                if (ctx.Profile) PrintProfile(ctx, forward, () => Loss(model, x, labels));
                yield return result;
            }
        }
    }

    private static void PrintProfile(BenchContext ctx, string caseName, Action body)
    {
        int gen0 = GC.CollectionCount(0), gen2 = GC.CollectionCount(2);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using (OpProfiler.Start(ctx.ProfileShapes))
        {
            for (int i = 0; i < ProfiledCalls; i++) body();
        }
        double totalMs = watch.Elapsed.TotalMilliseconds;
        double kernelMs = OpProfiler.Results.Sum(r => r.TotalMs);
        Console.Error.WriteLine($"{caseName}: operators over {ProfiledCalls} calls\n{OpProfiler.Report()}" +
            $"{"outside kernels (dispatch, autograd, allocation)",-50}{totalMs - kernelMs,12:F1} ms of {totalMs:F1}; " +
            $"garbage collections: {GC.CollectionCount(0) - gen0} (gen 2: {GC.CollectionCount(2) - gen2})\n");
    }

    /// <summary>The "NAME step" case: <see cref="Step"/> on the model's fixed batch.</summary>
    internal static CaseBody SetUpStep(string name, Func<TrainModel> create)
    {
        var model = Create(name, create);
        var (x, labels) = Batch(model);
        return new CaseBody(() => Step(model, x, labels), model, x, labels);
    }

    private static TrainModel Create(string name, Func<TrainModel> create)
    {
        var model = create();
        if (model.Name == name) return model;
        model.Dispose();
        throw new InvalidOperationException($"TrainSuite.Models lists '{name}' for the model named '{model.Name}'.");
    }

    /// <summary>The fixed batch a model trains on: normal inputs and labels 0-9 from a seeded generator.</summary>
    private static (NDArray X, NDArray Labels) Batch(TrainModel model)
    {
        var x = Nd.RandomNormal(0, 1, model.InputShape);
        var random = new Random(4);
        var labels = Nd.Array(Enumerable.Range(0, model.InputShape[0]).Select(_ => (long)random.Next(10)).ToArray(),
            new Shape(model.InputShape[0]));
        return (x, labels);
    }

    /// <summary>One SGD step; returns the loss before the update.</summary>
    public static float Step(TrainModel model, NDArray x, NDArray labels)
    {
        using var scope = NDArray.Scope();
        NDArray loss;
        using (Autograd.Record())
        {
            loss = Nd.Mean(Nd.SoftmaxCrossEntropy(model.Forward(x), labels));
        }
        loss.Backward();
        foreach (var w in model.Parameters) Nd.SgdUpdate(w, w.Grad!, LearningRate);
        return loss.ToScalar();
    }

    /// <summary>The forward pass and the loss in training mode (batch statistics), recording nothing.</summary>
    public static float Loss(TrainModel model, NDArray x, NDArray labels)
    {
        using var scope = NDArray.Scope();
        using (Autograd.TrainMode())
        {
            return Nd.Mean(Nd.SoftmaxCrossEntropy(model.Forward(x), labels)).ToScalar();
        }
    }
}
