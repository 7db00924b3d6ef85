using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The process's one ILGPU context and the accelerators made from it, one per device, created on first use and
/// kept until the process ends. ILGPU compiles kernels per context, so one context means each kernel is compiled
/// once per accelerator.
/// </summary>
internal static class GpuDevices
{
    private static readonly object Gate = new();
    private static readonly Dictionary<Device, GpuRuntime> Runtimes = new();
    private static Context? context;
    private static string? contextError;
    private static bool resolverSet;

    /// <summary>The simulator's device: warps of 32 (as NVIDIA's), up to 256 threads a group, one multiprocessor.
    /// </summary>
    internal static CPUDevice SimulatorDevice { get; } = new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 8,
        numMultiprocessors: 1);

    /// <summary>The context, or null with <see cref="ContextError"/> saying why it could not be created.</summary>
    internal static Context? Context
    {
        get
        {
            lock (Gate)
            {
                if (context is null && contextError is null) CreateContext();
                return context;
            }
        }
    }

    internal static string? ContextError
    {
        get
        {
            _ = Context;
            return contextError;
        }
    }

    internal static IReadOnlyList<CudaDevice> CudaDevices
    {
        get
        {
            var list = new List<CudaDevice>();
            if (Context is { } c) foreach (var d in c.GetCudaDevices()) list.Add(d);
            return list;
        }
    }

    internal static IReadOnlyList<CLDevice> OpenCLDevices
    {
        get
        {
            var list = new List<CLDevice>();
            if (Context is { } c) foreach (var d in c.GetCLDevices()) list.Add(d);
            return list;
        }
    }

    /// <summary>The runtime of a GPU-backend device, or an error that includes the GPU support report.</summary>
    internal static GpuRuntime RuntimeFor(Device device)
    {
        lock (Gate)
        {
            if (Runtimes.TryGetValue(device, out var runtime)) return runtime;
            var accelerator = CreateAccelerator(device);
            runtime = new GpuRuntime(device, accelerator);
            Runtimes[device] = runtime;
            return runtime;
        }
    }

    private static Accelerator CreateAccelerator(Device device)
    {
        var ctx = Context ?? throw Unavailable(device, $"ILGPU could not start: {contextError}");
        switch (device.Kind)
        {
            case DeviceKind.GpuSimulator:
                if (device.Ordinal != 0)
                    throw Unavailable(device, "there is one simulated GPU, gpusim(0).");
                return ctx.GetCPUDevice(0).CreateCPUAccelerator(ctx, CPUAcceleratorMode.Parallel);
            case DeviceKind.Cuda:
            {
                var devices = CudaDevices;
                if (device.Ordinal >= devices.Count)
                    throw Unavailable(device, devices.Count == 0
                        ? "no CUDA device was found."
                        : $"there are {devices.Count} CUDA device(s): gpu(0) to gpu({devices.Count - 1}).");
                return devices[device.Ordinal].CreateAccelerator(ctx);
            }
            case DeviceKind.OpenCL:
            {
                var devices = OpenCLDevices;
                if (device.Ordinal >= devices.Count)
                    throw Unavailable(device, devices.Count == 0
                        ? "no OpenCL device was found."
                        : $"there are {devices.Count} OpenCL device(s): opencl(0) to opencl({devices.Count - 1}).");
                return devices[device.Ordinal].CreateAccelerator(ctx);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(device), $"{device} is not a GPU-backend device.");
        }
    }

    internal static NotSupportedException Unavailable(Device device, string reason) =>
        new($"Device {device} is not available: {reason}\n{Diagnostics.GpuSupport.Detect()}\n" +
            "Use Device.Cpu, or Device.GpuSimulator(0) to run the GPU kernels on the CPU (slow; for tests).");

    private static void CreateContext()
    {
        InstallCudaResolver();
        try
        {
            context = Build(withOpenCL: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            try
            {
                // An OpenCL loader that misbehaves must not take CUDA and the simulator down with it.
                context = Build(withOpenCL: false);
            }
            catch (Exception again) when (again is not OutOfMemoryException)
            {
                contextError = $"{again.GetType().Name}: {again.Message}";
            }
        }
    }

    private static Context Build(bool withOpenCL) => Context.Create(b =>
    {
        // O2: ld.global instead of generic loads and fewer registers; EnableAlgorithms: the math intrinsics
        // (exp, tanh, warp and group reductions) on PTX.
        b.Optimize(OptimizationLevel.O2).EnableAlgorithms();
        b.Cuda();
        if (withOpenCL) b.OpenCL();
        b.CPU(SimulatorDevice);
    });

    /// <summary>
    /// ILGPU imports the driver as "cuda", which .NET looks up as libcuda.so and never as libcuda.so.1, the only name
    /// a driver-only Linux host has (libcuda.so comes with the CUDA toolkit). Resolve it to libcuda.so.1 there.
    /// </summary>
    private static void InstallCudaResolver()
    {
        if (resolverSet) return;
        resolverSet = true;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, (name, _, _) =>
                name == "cuda" && CudaDriver.TryLoad(out var handle) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            // Someone else resolves ILGPU's imports already; theirs stays.
        }
    }
}
