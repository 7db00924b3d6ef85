using Engine.Gluon;
using Engine.Gluon.NN;

namespace Engine.Bench;

/// <summary>
/// The same Gluon network run three ways: imperatively, hybridized (one compiled launch list, the arena rented per
/// call) and hybridized static (StaticAlloc + StaticShape: the arena allocated once, shapes bound once). Models:
/// the MLP 784-256-10 and seed 003's LeNet (inference at batch 1 and 256, a training step at batch 256), and
/// ResNet-18 for 32x32 input (inference and a training step at batch 32). Cases are named
/// <c>MODEL_bBATCH_MODE</c> for inference (<c>mlp_b1_static</c>) and <c>MODEL_bBATCH_train_MODE</c> for a step
/// (forward under Record, softmax cross-entropy, backward, sgd_update on every parameter). Inference runs in
/// predict mode without recording; each call's arrays are freed by an NDArray scope. The three modes of a case are
/// timed in turns (<see cref="BenchContext.MeasureInTurns"/>), so load on a shared machine hits them alike.
/// tools/bench/torch_baseline.py times the same cases in PyTorch eager mode (<c>mlp_b1</c>, <c>mlp_b256_train</c>),
/// and tools/bench/onnxruntime_baseline.js the inference cases in ONNX Runtime.
/// </summary>
public static class HybridizeSuite
{
    private const double LearningRate = 0.01;
    private const int ProfiledCalls = 20;

    private static readonly HashSet<string> ProductOps =
    [
        "fully_connected", "dot", "batch_dot", "convolution", "_backward_convolution_data",
        "_backward_convolution_weight",
    ];

    public static readonly string[] Modes = ["imperative", "hybrid", "static"];

    /// <summary>The models with their per-sample shape, inference batches and training batch.</summary>
    public static readonly (string Name, Func<HybridSequential> Make, int[] Sample, int[] Batches, int TrainBatch)[]
        Models =
        [
            ("mlp", Mlp, [784], [1, 256], 256),
            ("lenet", LeNet, [1, 28, 28], [1, 256], 256),
            ("resnet18", ResNet18, [3, 32, 32], [32], 32),
        ];

    public static HybridSequential Mlp()
    {
        var net = new HybridSequential();
        net.Add(new Dense(256, activation: "relu"), new Dense(10));
        return net;
    }

    public static HybridSequential LeNet()
    {
        var net = new HybridSequential();
        net.Add(new Conv2D(6, 5, activation: "relu"), new MaxPool2D(2), new Conv2D(16, 5, activation: "relu"),
            new MaxPool2D(2), new Flatten(), new Dense(120, activation: "relu"), new Dense(84, activation: "relu"),
            new Dense(10));
        return net;
    }

    public static HybridSequential ResNet18()
    {
        var net = new HybridSequential();
        net.Add(Engine.Gluon.ModelZoo.ResNet18V1(classes: 10, thumbnail: true));
        return net;
    }

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        foreach (var (name, make, sample, batches, trainBatch) in Models)
        {
            foreach (int batch in batches)
            {
                var modes = Modes.Where(m => ctx.Wants($"{name}_b{batch}_{m}")).ToList();
                if (modes.Count == 0) continue;
                var nets = modes.Select(m => Build(make, sample, m)).ToList();
                using var x = Nd.RandomNormal(0, 1, Shape(batch, sample));
                var bodies = nets.Select(net => (Action)(() =>
                {
                    using var scope = NDArray.Scope();
                    net.Call(x);
                })).ToList();
                var caseNames = modes.Select(m => $"{name}_b{batch}_{m}").ToList();
                foreach (var r in ctx.MeasureInTurns(caseNames, bodies)) yield return r;
                if (ctx.Profile)
                {
                    for (int k = 0; k < caseNames.Count; k++) PrintProfile(ctx, caseNames[k], nets[k], bodies[k]);
                }
            }
            var trainModes = Modes.Where(m => ctx.Wants($"{name}_b{trainBatch}_train_{m}")).ToList();
            if (trainModes.Count == 0) continue;
            var trainNets = trainModes.Select(m => Build(make, sample, m)).ToList();
            using var xt = Nd.RandomNormal(0, 1, Shape(trainBatch, sample));
            var random = new Random(4);
            using var labels = Nd.Array(Enumerable.Range(0, trainBatch).Select(_ => (long)random.Next(10)).ToArray(),
                new Shape(trainBatch));
            var losses = new List<(float First, float Last)>();
            var steps = new List<Action>();
            for (int k = 0; k < trainNets.Count; k++)
            {
                var net = trainNets[k];
                var parameters = net.CollectParams().Values.Where(p => p.GradReq != GradReq.Null).ToList();
                int index = k;
                losses.Add((float.NaN, float.NaN));
                steps.Add(() =>
                {
                    float loss = Step(net, parameters, xt, labels);
                    var (first, _) = losses[index];
                    losses[index] = (float.IsNaN(first) ? loss : first, loss);
                });
            }
            var names = trainModes.Select(m => $"{name}_b{trainBatch}_train_{m}").ToList();
            foreach (var r in ctx.MeasureInTurns(names, steps)) yield return r;
            if (ctx.Profile)
            {
                for (int k = 0; k < names.Count; k++) PrintProfile(ctx, names[k], trainNets[k], steps[k]);
            }
            // The same batch every step, so the loss must fall: a check that each step really trains.
            for (int k = 0; k < names.Count; k++)
                Console.Error.WriteLine($"{names[k]}: loss {losses[k].First:0.####} -> {losses[k].Last:0.####}");
        }
    }

    /// <summary>
    /// --profile: runs <paramref name="body"/> <see cref="ProfiledCalls"/> more times under OpProfiler and prints
    /// the time per operator, the time outside kernels, page faults and collections per call and, for a hybridized
    /// net, its launch lists with microseconds per launch (<see cref="HybridBlock.Explain"/>).
    /// </summary>
    private static void PrintProfile(BenchContext ctx, string caseName, HybridSequential net, Action body)
    {
        body();
        if (net.IsHybridized) net.ResetLaunchTimes();
        long faults = MinorPageFaults();
        int gen0 = GC.CollectionCount(0);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using (Engine.Diagnostics.OpProfiler.Start(ctx.ProfileShapes))
        {
            for (int i = 0; i < ProfiledCalls; i++) body();
        }
        double totalMs = watch.Elapsed.TotalMilliseconds / ProfiledCalls;
        double kernelMs = Engine.Diagnostics.OpProfiler.Results.Sum(r => r.TotalMs) / ProfiledCalls;
        // Minor page faults: fresh pages the process touched (memory returned to the system and taken again).
        string pages = faults < 0 ? "" : $", {(MinorPageFaults() - faults) / (double)ProfiledCalls:F0} page faults";
        // GEMMs and convolutions: what no compilation removes. A call that ran nothing else would take this long.
        double productMs = Engine.Diagnostics.OpProfiler.Results
            .Where(r => ProductOps.Contains(r.Op.Split(' ')[0])).Sum(r => r.TotalMs) / ProfiledCalls;
        Console.Error.WriteLine($"{caseName}: operators over {ProfiledCalls} calls\n" +
                                Engine.Diagnostics.OpProfiler.Report() +
                                $"per call: {totalMs:F3} ms, {kernelMs:F3} in kernels, " +
                                $"{totalMs - kernelMs:F3} outside{pages}; garbage collections: " +
                                $"{GC.CollectionCount(0) - gen0}\n" +
                                $"products (GEMM, convolution): {productMs:F3} ms per call, " +
                                $"{productMs / totalMs:P0} of the call; the call is {totalMs / productMs:F2}x its " +
                                "products");
        if (net.IsHybridized) Console.Error.WriteLine(net.Explain(listLaunches: true));
        Console.Error.WriteLine();
    }

    /// <summary>The process's minor page faults so far (Linux, /proc/self/stat field 10); -1 elsewhere.</summary>
    private static long MinorPageFaults()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            // Fields after the command name (in parentheses, which may hold spaces): state is field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[10 - 3], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }

    public static Shape Shape(int batch, int[] sample) => new([batch, .. sample]);

    /// <summary>A model with the same initial values in every mode, its deferred shapes resolved.</summary>
    public static HybridSequential Build(Func<HybridSequential> make, int[] sample, string mode)
    {
        RandomState.Seed(7);
        var net = make();
        net.Initialize(new Engine.Gluon.Initializers.Xavier());
        using (var x = Nd.Zeros(Shape(1, sample))) net.Call(x).Dispose();
        if (mode == "hybrid") net.Hybridize();
        if (mode == "static") net.Hybridize(true, new HybridizeOptions { StaticAlloc = true, StaticShape = true });
        return net;
    }

    /// <summary>One SGD step; returns the loss before the update.</summary>
    public static float Step(HybridSequential net, IReadOnlyList<Parameter> parameters, NDArray x, NDArray labels)
    {
        using var scope = NDArray.Scope();
        NDArray loss;
        using (Autograd.Record())
        {
            loss = Nd.Mean(Nd.SoftmaxCrossEntropy(net.Call(x), labels));
        }
        loss.Backward();
        foreach (var p in parameters) Nd.SgdUpdate(p.Data(), p.Grad(), LearningRate);
        return loss.ToScalar();
    }
}
