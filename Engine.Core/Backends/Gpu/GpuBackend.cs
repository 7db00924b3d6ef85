using System.Runtime.InteropServices;
using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Memory;
using Engine.Ops;

namespace Engine.Backends.Gpu;

/// <summary>
/// The GPU backend: the ILGPU kernels of Engine.Kernels/Gpu bound to the operators, for CUDA devices, OpenCL
/// devices and the simulated GPU (ILGPU's CPU accelerator). One partial file per operator family, with the CPU
/// backend's file names. Every operator has GPU kernels for float32 and float64; the few dtypes without one (listed
/// in docs/gpu.md) run the CPU kernel on host copies of the arguments (<see cref="OnCpu"/>), so every operator works
/// on every GPU device.
/// </summary>
internal sealed partial class GpuBackend : Backend
{
    public override string Name => "gpu";

    public override IReadOnlyList<DeviceKind> DeviceKinds { get; } =
        [DeviceKind.Cuda, DeviceKind.GpuSimulator, DeviceKind.OpenCL];

    protected internal override void RegisterKernels()
    {
        RegisterElementwise(GpuElementwiseDriver.Instance);
        RegisterCopyKernels();
        RegisterCopy();
        RegisterLinearAlgebra();
        RegisterConvolution();
        RegisterPooling();
        RegisterNormalization();
        RegisterSampleNorm();
        RegisterActivations();
        RegisterRandom();
        RegisterLayout();
        RegisterReduction();
        RegisterOptimizers();
        RegisterLoss();
        RegisterFusion();
        RegisterRecurrent();
    }

    private static GpuRuntime Runtime(KernelContext context) =>
        context.Runtime as GpuRuntime ?? throw new InvalidOperationException(
            $"{context.Op}: a GPU kernel was handed a context of {context.Device}.");

    /// <summary>
    /// Runs <paramref name="op"/>'s CPU kernel on host copies of the arguments and copies the outputs (and the
    /// inputs the op mutates) back: the path for dtypes the GPU kernels do not cover. Synchronises the device.
    /// </summary>
    private static void OnCpu<TAttrs>(OpDef<TAttrs> op, TAttrs attrs, KernelContext context, TensorArg[] inputs,
        TensorArg[] outputs) where TAttrs : OpAttrs
    {
        var cpu = CpuRuntime.Instance;
        if (context.Runtime is GpuRuntime gpu) gpu.HostFallbacks.AddOrUpdate(op.Name, 1, (_, n) => n + 1);
        var owned = new List<DeviceBuffer>();
        try
        {
            var dense = inputs.Select(x => context.Contiguous(x)).ToArray();
            var hostInputs = dense.Select(x => ToHost(context.Runtime, cpu, x, owned)).ToArray();
            var hostOutputs = new TensorArg[outputs.Length];
            for (int k = 0; k < outputs.Length; k++)
            {
                int same = Array.FindIndex(inputs, x => SameArgument(x, outputs[k]));
                hostOutputs[k] = same >= 0 ? hostInputs[same] : Empty(cpu, outputs[k].Shape, outputs[k].DType, owned);
            }
            var requests = Enumerable.Range(0, outputs.Length).Select(context.Request).ToArray();
            using (var cpuContext = new KernelContext(cpu, context.Op, requests))
                op.KernelFor(Device.Cpu)(attrs, cpuContext, hostInputs, hostOutputs);
            for (int k = 0; k < outputs.Length; k++) ToDevice(context, hostOutputs[k], outputs[k]);
            foreach (int k in op.Mutates)
            {
                if (outputs.Any(y => SameArgument(inputs[k], y))) continue;
                ToDevice(context, hostInputs[k], inputs[k]);
            }
        }
        finally
        {
            foreach (var b in owned) b.Dispose();
        }
    }

    private static bool SameArgument(in TensorArg a, in TensorArg b) =>
        ReferenceEquals(a.Buffer, b.Buffer) && a.Offset == b.Offset && a.Shape == b.Shape;

    private static TensorArg Empty(DeviceRuntime runtime, Shape shape, DType dtype, List<DeviceBuffer> owned)
    {
        var buffer = runtime.Allocate(shape.Size * dtype.SizeInBytes());
        owned.Add(buffer);
        return new TensorArg(buffer, TensorLayout.Contiguous(shape), dtype);
    }

    private static TensorArg ToHost(DeviceRuntime device, CpuRuntime cpu, in TensorArg x, List<DeviceBuffer> owned)
    {
        var host = Empty(cpu, x.Shape, x.DType, owned);
        int size = x.DType.SizeInBytes();
        device.CopyToHost(x.Buffer, x.Offset * size, ((CpuBuffer)host.Buffer).AsSpan<byte>()[..(int)(x.Size * size)]);
        return host;
    }

    /// <summary>Copies a dense host argument into a device argument of any layout.</summary>
    private static void ToDevice(KernelContext context, in TensorArg host, in TensorArg target)
    {
        int size = host.DType.SizeInBytes();
        var bytes = ((CpuBuffer)host.Buffer).AsSpan<byte>()[..(int)(host.Size * size)];
        if (target.IsContiguous)
        {
            context.Runtime.CopyFromHost(bytes, target.Buffer, target.Offset * size);
            return;
        }
        var dense = new TensorArg(context.Scratch(host.Size * size), TensorLayout.Contiguous(host.Shape), host.DType);
        context.Runtime.CopyFromHost(bytes, dense.Buffer, 0);
        context.Runtime.Copy(dense, target);
    }

    /// <summary>Index values of any numeric dtype, checked on the host, as an int64 device argument.</summary>
    private static TensorArg Indices(KernelContext context, in TensorArg indices, string op, List<DeviceBuffer> owned)
    {
        var result = HostIndices(context, indices, op);
        // The converted indices are an argument in another form, not working memory, so they come from the pool
        // rather than the op's scratch budget (a dense copy of each input, which int64 indices from uint8 or float32
        // ones would overrun). Returning the buffer right after the launch is safe: work is ordered on one stream.
        var buffer = context.Runtime.Allocate(result.Length * sizeof(long));
        owned.Add(buffer);
        var arg = new TensorArg(buffer, TensorLayout.Contiguous(indices.Shape), DType.Int64);
        context.Runtime.CopyFromHost(MemoryMarshal.AsBytes(result.AsSpan()), arg.Buffer, 0);
        return arg;
    }

    /// <summary>Index values of any numeric dtype read to the host as int64, each checked to be an integer.
    /// </summary>
    private static long[] HostIndices(KernelContext context, in TensorArg indices, string op)
    {
        var x = context.Contiguous(indices);
        var bytes = new byte[x.Size * x.DType.SizeInBytes()];
        context.Runtime.CopyToHost(x.Buffer, x.Offset * x.DType.SizeInBytes(), bytes);
        var result = new long[x.Size];
        for (int k = 0; k < result.Length; k++)
        {
            double v = x.DType switch
            {
                DType.Int64 => MemoryMarshal.Cast<byte, long>(bytes)[k],
                DType.Int32 => MemoryMarshal.Cast<byte, int>(bytes)[k],
                DType.UInt8 => bytes[k],
                DType.Int8 => (sbyte)bytes[k],
                DType.Float32 => MemoryMarshal.Cast<byte, float>(bytes)[k],
                DType.Float64 => MemoryMarshal.Cast<byte, double>(bytes)[k],
                _ => throw new ArgumentException($"{op}: indices of dtype {x.DType.Name()} are not supported."),
            };
            if (x.DType == DType.Int64)
            {
                result[k] = MemoryMarshal.Cast<byte, long>(bytes)[k];
                continue;
            }
            if (double.IsNaN(v) || v != Math.Floor(v))
                throw new ArgumentException($"{op}: index {v} at position {k} is not an integer.");
            result[k] = (long)v;
        }
        return result;
    }
}
