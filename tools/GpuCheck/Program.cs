using Engine;
using Engine.Diagnostics;
using Engine.GpuCheck;
using Engine.Kernels;
using Engine.Kernels.Gpu;

// gpu-check: the GPU conformance suite and benchmarks, for a machine with only the .NET runtime.
//   GpuCheck [--device cuda:0|gpusim] [--suite conformance|bench|all] [--filter TEXT]
// With no --device it takes cuda:0 when there is one and otherwise says why and runs the simulated GPU.
string? deviceName = null, filter = null, suite = "all";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--device": deviceName = args[++i]; break;
        case "--suite": suite = args[++i]; break;
        case "--filter": filter = args[++i]; break;
        default:
            Console.Error.WriteLine($"gpu-check: unknown option '{args[i]}'; use --device, --suite or --filter.");
            return 2;
    }
}

var support = GpuSupport.Detect();
Console.WriteLine(support);
Device device;
if (deviceName is not null) device = Device.Parse(deviceName);
else if (support.HasCuda) device = Device.Cuda(0);
else
{
    Console.WriteLine($"No CUDA device: {support.CudaReason}. Running the CPU-accelerator path (gpusim(0)).");
    device = Device.GpuSimulator(0);
}
var runtime = (GpuRuntime)DeviceRuntime.For(device);
Console.WriteLine($"device: {runtime}");

int failed = 0;
if (suite is "conformance" or "all")
{
    // The suite's fixtures read the device from this variable (Engine.Tests.Gpu/Support/GpuTestDevice.cs).
    Environment.SetEnvironmentVariable("ENGINE_TEST_GPU", device.ToString());
    var runner = new SuiteRunner(Console.Out);
    var watch = System.Diagnostics.Stopwatch.StartNew();
    runner.Run(typeof(Engine.Tests.Gpu.GpuFixture).Assembly, filter);
    Console.WriteLine($"conformance on {device}: {runner.Passed} passed, {runner.Failed} failed, " +
        $"{runner.Skipped} skipped in {watch.Elapsed.TotalSeconds:F1} s; {GpuPtxCheck.Compiled.Count} kernel " +
        "instantiations compiled to PTX for sm_90");
    foreach (var f in runner.Failures) Console.WriteLine($"  FAIL {f}");
    failed += runner.Failed;
}
if (suite is "bench" or "all")
{
    var bench = new GpuBench(runtime, Console.Out);
    bench.Run();
    var (count, compile) = runtime.CompiledKernels;
    Console.WriteLine();
    Console.WriteLine($"| case | engine | anchor | ratio |  ({runtime.Name}; {count} kernels compiled in " +
        $"{compile.TotalMilliseconds:F0} ms)");
    Console.WriteLine("| --- | --- | --- | --- |");
    foreach (var (name, figure, anchor, ratio) in bench.Summary)
        Console.WriteLine($"| {name} | {figure} | {anchor} | {ratio} |");
}
return failed == 0 ? 0 : 1;
