using System.Diagnostics;
using System.Globalization;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using Engine.Memory;

namespace Engine.GpuCheck;

/// <summary>
/// GPU benchmarks against anchors measured in the same run: device-to-device copy bandwidth for the elementwise
/// and reduction kernels, cuBLAS (FP32 and TF32) for the SGEMM. Each case prints a JSON line; <see cref="Summary"/>
/// is the table. On the simulated GPU the sizes are tiny and only show that the path runs.
/// </summary>
internal sealed class GpuBench(GpuRuntime runtime, TextWriter output)
{
    private readonly List<(string Case, string Figure, string Anchor, string Ratio)> rows = new();
    private readonly List<DeviceBuffer> buffers = new();

    public IReadOnlyList<(string Case, string Figure, string Anchor, string Ratio)> Summary => rows;

    public void Run()
    {
        bool real = !runtime.IsSimulator;
        try
        {
            Bandwidth(real ? 16 << 20 : 1 << 14);
            foreach (int size in real ? new[] { 1024, 2048, 4096, 8192 } : new[] { 64, 128 }) Sgemm(size);
            // Training steps (forward, backward, SGD update through Nd on the device). The simulator takes about a
            // minute for one LeNet step at batch 2, so it runs that once and skips ResNet-18.
            Train(() => new Bench.Models.LeNetModel(real ? 256 : 2), real ? 20 : 1);
            if (real) Train(() => new Bench.Models.ResNet18Model(128), 10);
        }
        finally
        {
            runtime.Synchronize();
            foreach (var b in buffers) b.Dispose();
        }
    }

    private void Bandwidth(int n)
    {
        var shape = new Shape(n);
        var x = Filled(shape, 1);
        var y = Filled(shape, 2);
        var z = Filled(shape, 3);
        var sum = Filled(new Shape(1), 4);
        double bytes = n * 4.0;
        using var context = new KernelContext(runtime, "bench");
        double copy = Median(() => runtime.Copy(x, z));
        double copyGbs = 2 * bytes / copy / 1e6;
        Emit("copy_d2d", n, copy, ("gb_per_s", copyGbs));
        rows.Add(($"copy {n} floats", $"{copyGbs:F1} GB/s", "-", "-"));
        foreach (var (name, traffic, action) in new (string, double, Action)[]
                 {
                     ("add", 3 * bytes, () => GpuElementwiseDriver.Instance.Binary<AddOperator<float>, float>(
                         context, default, x, y, z)),
                     ("relu", 2 * bytes, () => GpuElementwiseDriver.Instance.Unary<ReluOperator<float>, float>(
                         context, default, x, z)),
                     ("sum", bytes, () => GpuReduce.Reduce(runtime, ReduceOp.Sum, x, [], sum)),
                 })
        {
            double ms = Median(action);
            double gbs = traffic / ms / 1e6;
            Emit(name, n, ms, ("gb_per_s", gbs), ("of_copy", gbs / copyGbs));
            rows.Add(($"{name} {n} floats", $"{gbs:F1} GB/s", $"copy {copyGbs:F1} GB/s", $"{gbs / copyGbs:P0}"));
        }
    }

    private void Sgemm(int size)
    {
        var shape = new Shape(size, size);
        var a = Filled(shape, 5);
        var b = Filled(shape, 6);
        var c = Filled(shape, 7);
        double flops = 2.0 * size * size * size;
        using var blas = CuBlasReference.TryCreate(runtime, out string? why);
        foreach (bool tf32 in new[] { false, true })
        {
            if (tf32 && !GpuTensorCores.Supported(runtime)) continue;
            GpuGemm.AllowTf32 = tf32;
            double ms;
            try
            {
                ms = Median(() => GpuGemm.Gemm(runtime, false, false, size, size, size, 1f, a, size, b, size, 0f, c,
                    size));
            }
            finally
            {
                GpuGemm.AllowTf32 = false;
            }
            double tflops = flops / ms / 1e9;
            string mode = tf32 ? "tf32" : "fp32";
            Emit($"sgemm_{mode}", size, ms, ("tflops", tflops));
            string anchor = "-", ratio = "-";
            if (blas is not null)
            {
                blas.Tf32 = tf32;
                double blasMs = Median(() => blas.Gemm(size, size, size, a, b, c));
                double blasTflops = flops / blasMs / 1e9;
                Emit($"cublas_{mode}", size, blasMs, ("tflops", blasTflops));
                anchor = $"cuBLAS {blasTflops:F1} TFLOPS";
                ratio = $"{tflops / blasTflops:F2}x";
            }
            else if (!tf32)
            {
                anchor = $"no cuBLAS: {why}";
            }
            rows.Add(($"sgemm {mode} {size}^3", $"{tflops:F3} TFLOPS", anchor, ratio));
        }
    }

    private void Train(Func<Bench.Models.TrainModel> create, int steps)
    {
        // The parameters are made inside the scope, so they live on the device.
        using var onDevice = DefaultDevice.Use(runtime.Device);
        using var model = create();
        int batch = model.InputShape[0];
        using var x = Nd.RandomNormal(0, 1, model.InputShape);
        var random = new Random(4);
        using var labels = Nd.Array(Enumerable.Range(0, batch).Select(_ => (long)random.Next(10)).ToArray(),
            new Shape(batch));
        var first = Stopwatch.StartNew();
        float loss = Bench.TrainSuite.Step(model, x, labels);
        double firstMs = first.Elapsed.TotalMilliseconds;
        double ms = steps <= 1 ? firstMs : Median(() => loss = Bench.TrainSuite.Step(model, x, labels), steps);
        double perSecond = batch / ms * 1000;
        Emit(model.Name.Replace(' ', '_') + "_step", batch, ms, ("samples_per_s", perSecond),
            ("first_step_ms", firstMs), ("loss", loss));
        rows.Add(($"{model.Name} training step", $"{ms:F1} ms, {perSecond:F0} samples/s",
            $"first step {firstMs:F0} ms (compiling)", "-"));
    }

    private TensorArg Filled(Shape shape, int seed)
    {
        var buffer = runtime.Allocate(shape.Size * 4);
        buffers.Add(buffer);
        var arg = new TensorArg(buffer, TensorLayout.Contiguous(shape), DType.Float32);
        GpuRandom.Uniform(runtime, (ulong)seed, 0, -1f, 1f, arg);
        return arg;
    }

    /// <summary>Median milliseconds of a synchronised run, after a warm-up that also compiles the kernels.</summary>
    private double Median(Action action, int? repetitions = null)
    {
        action();
        runtime.Synchronize();
        int reps = repetitions ?? (runtime.IsSimulator ? 3 : 10);
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            var watch = Stopwatch.StartNew();
            action();
            runtime.Synchronize();
            times[r] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    private void Emit(string name, int size, double ms, params (string Key, double Value)[] figures)
    {
        var fields = string.Join(", ", figures.Select(f =>
            $"\"{f.Key}\": {f.Value.ToString("G5", CultureInfo.InvariantCulture)}"));
        output.WriteLine($"{{\"suite\": \"gpu\", \"case\": \"{name}\", \"size\": {size}, \"device\": " +
            $"\"{runtime.Name}\", \"median_ms\": {ms.ToString("G5", CultureInfo.InvariantCulture)}, {fields}}}");
    }
}
