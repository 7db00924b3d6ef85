using System.Diagnostics;
using Engine;
using Engine.Gluon;
using Engine.Gluon.Data;
using Engine.Gluon.Initializers;
using Engine.Gluon.Losses;
using Engine.Gluon.Metrics;
using Engine.Samples.FashionMnist;

// Trains an MLP or seed 003's LeNet on Fashion-MNIST and ends with "test accuracy: 0.NNNN".
Options options;
try
{
    options = Options.Parse(args);
    options.CheckSave();
}
catch (ArgumentException e)
{
    bool help = args.Contains("--help") || args.Contains("-h");
    Console.Error.WriteLine(help ? e.Message : $"error: {e.Message}");
    return help ? 0 : 2;
}

FashionMNIST train, test;
try
{
    train = new FashionMNIST(train: true, root: options.Data, limit: options.Limit);
    test = new FashionMNIST(train: false, root: options.Data,
        limit: options.Limit is { } l ? Math.Max(1, l / 6) : null);
}
catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

var device = options.Device;
if (device != Device.Cpu)
{
    // What GPU support there is, and why not when there is none; then fail early if the device cannot be used.
    Console.WriteLine(Engine.Diagnostics.GpuSupport.Detect());
    try
    {
        Engine.Kernels.DeviceRuntime.For(device);
    }
    catch (NotSupportedException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

try
{
    // New arrays (parameters, scalars in expressions) go to the training device; batches are copied there.
    using var onDevice = DefaultDevice.Use(device);
    RandomState.Seed(options.Seed);
    var net = options.Model == "lenet" ? Models.LeNet() : Models.Mlp();
    net.Initialize(new Xavier(), device);
    if (options.Hybridize) net.Hybridize();
    var loss = new SoftmaxCrossEntropyLoss();
    var optimizerOptions = new Dictionary<string, object> { ["learning_rate"] = options.EffectiveLearningRate };
    if (options.Optimizer == "sgd") optimizerOptions["momentum"] = 0.9;
    var trainer = new Trainer(net.CollectParams(), options.Optimizer, optimizerOptions);
    var trainLoader = new DataLoader(train, options.BatchSize, shuffle: true, seed: options.Seed);
    var testLoader = new DataLoader(test, 1000);

    Console.WriteLine($"model {options.Model} on {device}, {train.Count} training and {test.Count} test samples, " +
                      $"batch {options.BatchSize}, {options.Optimizer} lr {options.EffectiveLearningRate}, " +
                      $"{options.Epochs} epochs");
    double testAccuracy = 0;
    var total = Stopwatch.StartNew();
    using var profiler = Environment.GetEnvironmentVariable("ENGINE_PROFILE") == "1"
        ? Engine.Diagnostics.OpProfiler.Start()
        : null;
    for (int epoch = 1; epoch <= options.Epochs; epoch++)
    {
        var accuracy = new Accuracy();
        var meanLoss = new Engine.Gluon.Metrics.LossMetric();
        var clock = Stopwatch.StartNew();
        int seen = 0, batchIndex = 0, batches = trainLoader.Count;
        foreach (var batch in trainLoader)
        {
            using (batch)
            using (var scope = NDArray.Scope())
            {
                NDArray output, l;
                var data = Normalize(batch.Data.CopyTo(device));
                var label = batch.Label.CopyTo(device);
                using (Autograd.Record())
                {
                    output = net.Call(data);
                    l = loss.Call(output, label);
                }
                l.Backward();
                trainer.Step(batch.Size);
                accuracy.Update(label, output);
                meanLoss.Update(l);
                seen += batch.Size;
            }
            batchIndex++;
            double running = meanLoss.Get().Value;
            if (!double.IsFinite(running))
            {
                Console.Error.WriteLine($"\nerror: the training loss became {running} in epoch {epoch}, batch " +
                    $"{batchIndex}: training diverged. Lower the learning rate (--lr, now " +
                    $"{options.EffectiveLearningRate}).");
                return 3;
            }
            if (batchIndex % 20 == 0 || batchIndex == batches)
                Console.Write($"\repoch {epoch}: {batchIndex}/{batches} batches, " +
                              $"{seen / clock.Elapsed.TotalSeconds:F0} samples/s   ");
        }
        double seconds = clock.Elapsed.TotalSeconds;
        testAccuracy = Evaluate(net, testLoader, device);
        Console.WriteLine($"\repoch {epoch}: loss {meanLoss.Get().Value:F4}, " +
                          $"train accuracy {accuracy.Get().Value:F4}, test accuracy {testAccuracy:F4}, " +
                          $"{seen / seconds:F0} samples/s ({seconds:F1} s)");
    }
    if (options.Save is { } path)
    {
        net.SaveParameters(path);
        Console.WriteLine($"saved parameters to {path}");
    }
    if (options.Export is { } prefix)
    {
        if (net is not HybridBlock hybrid)
        {
            Console.Error.WriteLine($"error: --export needs a HybridBlock; {options.Model} is not one.");
            return 1;
        }
        // Export writes the graph of the last hybridized call: hybridize now if training ran imperatively.
        var sample = test.Count > 0 ? SampleBatch(testLoader, device) : null;
        if (!options.Hybridize && sample is not null)
        {
            hybrid.Hybridize();
            hybrid.Call(sample).Dispose();
        }
        var (symbolFile, paramsFile) = hybrid.Export(prefix);
        Console.WriteLine($"exported {symbolFile} and {paramsFile}");
        if (sample is not null)
        {
            string samplePath = prefix + "-sample.npy";
            Engine.IO.NpyFile.Write(samplePath, Engine.IO.NpyArray.FromFloat32(sample.Shape, sample.ToArray()));
            Console.WriteLine($"wrote {samplePath} (8 normalized test images, input 'data')");
        }
    }
    Console.WriteLine($"total time {total.Elapsed.TotalSeconds:F1} s");
    if (Engine.Kernels.DeviceRuntime.For(device) is Engine.Kernels.Gpu.GpuRuntime gpu)
    {
        // ILGPU compiles each kernel on first use (no disk cache): the first steps pay for it.
        var (kernels, compile) = gpu.CompiledKernels;
        Console.WriteLine($"{kernels} GPU kernels compiled on first use in {compile.TotalSeconds:F1} s");
    }
    if (profiler is not null) Console.WriteLine(Engine.Diagnostics.OpProfiler.Report());
    Console.WriteLine($"test accuracy: {testAccuracy:F4}");
    return 0;
}
catch (Exception e) when (e is OutOfMemoryException or IOException or UnauthorizedAccessException)
{
    // A batch too large for memory or a disk that fails is the user's to fix, not a crash with a stack trace.
    Console.Error.WriteLine($"\nerror: {e.Message}");
    return 1;
}

static double Evaluate(Block net, DataLoader loader, Device device)
{
    var accuracy = new Accuracy();
    foreach (var batch in loader)
    {
        using (batch)
        using (var scope = NDArray.Scope())
            accuracy.Update(batch.Label.CopyTo(device), net.Call(Normalize(batch.Data.CopyTo(device))));
    }
    return accuracy.Get().Value;
}

static NDArray SampleBatch(DataLoader loader, Device device)
{
    foreach (var batch in loader)
    {
        using (batch)
        {
            using var x = Normalize(batch.Data.CopyTo(device));
            return x.SliceAxis(0, 0, Math.Min(8, x.Shape[0])).Copy();
        }
    }
    throw new InvalidOperationException("the test set is empty.");
}

// Fashion-MNIST's pixel mean and standard deviation over the training set (of values scaled to [0, 1]).
static NDArray Normalize(NDArray x) => (x - 0.2860) / 0.3530;
