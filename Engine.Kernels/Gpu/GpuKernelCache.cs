using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The compiled kernels of one device. ILGPU compiles a kernel (IL to PTX, then the driver's PTX to machine code)
/// on first load and has no disk cache, so each instantiation is loaded once per process and its launcher kept
/// here, keyed by the kernel method (a generic kernel's every instantiation is its own method). The first-use cost
/// is measured and reported through <see cref="CompileTime"/> and <see cref="Log"/>.
/// </summary>
internal sealed class GpuKernelCache
{
    private readonly GpuRuntime runtime;
    private readonly ConcurrentDictionary<MethodInfo, Delegate> loaded = new();
    private readonly object compileGate = new();
    private long compileTicks;

    public GpuKernelCache(GpuRuntime runtime) => this.runtime = runtime;

    public int Count => loaded.Count;

    public TimeSpan CompileTime => TimeSpan.FromTicks(Interlocked.Read(ref compileTicks));

    /// <summary>(kernel, milliseconds to compile and load) in load order.</summary>
    public ConcurrentQueue<(string Kernel, double Milliseconds)> Log { get; } = new();

    public Action<AcceleratorStream, KernelConfig, T1> Load<T1>(Action<T1> kernel)
        where T1 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2> Load<T1, T2>(Action<T1, T2> kernel)
        where T1 : struct
        where T2 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3> Load<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4,
        T5> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<T1, T2,
        T3, T4, T5, T6> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7> Load<T1, T2, T3, T4, T5, T6,
        T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> Load<T1, T2, T3, T4, T5, T6, T7,
        T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9> Load<T1, T2, T3, T4, T5, T6, T7,
        T8, T9>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Load<T1, T2, T3, T4, T5, T6,
        T7, T8, T9, T10>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Load<T1, T2, T3, T4,
        T5, T6, T7, T8, T9, T10, T11>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
        where T11 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> Load<T1, T2, T3,
        T4, T5, T6, T7, T8, T9, T10, T11, T12>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
        where T11 : struct
        where T12 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> Load<T1, T2,
        T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12,
        T13> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
        where T11 : struct
        where T12 : struct
        where T13 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    public Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> Load<T1,
        T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11,
        T12, T13, T14> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
        where T11 : struct
        where T12 : struct
        where T13 : struct
        where T14 : struct =>
        Get(kernel, () => runtime.Accelerator.LoadKernel(kernel));

    private TLauncher Get<TLauncher>(Delegate kernel, Func<TLauncher> load) where TLauncher : Delegate
    {
        if (loaded.TryGetValue(kernel.Method, out var launcher)) return (TLauncher)launcher;
        lock (compileGate)
        {
            if (loaded.TryGetValue(kernel.Method, out launcher)) return (TLauncher)launcher;
            GpuPtxCheck.Verify(kernel.Method);
            var watch = Stopwatch.StartNew();
            TLauncher created;
            try
            {
                created = load();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException(
                    $"{runtime.Device}: ILGPU could not compile kernel {GpuPtxCheck.Describe(kernel.Method)}: " +
                    $"{e.InnerException?.Message ?? e.Message}", e);
            }
            watch.Stop();
            Interlocked.Add(ref compileTicks, watch.Elapsed.Ticks);
            Log.Enqueue((GpuPtxCheck.Describe(kernel.Method), watch.Elapsed.TotalMilliseconds));
            loaded[kernel.Method] = created;
            return created;
        }
    }
}
