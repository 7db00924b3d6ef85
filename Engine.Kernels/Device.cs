namespace Engine;

public enum DeviceKind
{
    Cpu = 1,

    /// <summary>An NVIDIA GPU, through ILGPU's CUDA accelerator.</summary>
    Cuda = 2,

    /// <summary>
    /// The GPU backend's kernels run on ILGPU's CPU accelerator: no GPU needed, far slower than the CPU backend.
    /// For testing GPU kernels where there is no GPU.
    /// </summary>
    GpuSimulator = 3,

    /// <summary>An OpenCL device (ILGPU's OpenCL accelerator), when ILGPU finds one.</summary>
    OpenCL = 4,
}

/// <summary>
/// Where an array lives. <c>Device.Cpu</c>, <c>Device.Cuda(n)</c>, <c>Device.GpuSimulator(n)</c> or
/// <c>Device.OpenCL(n)</c>; printed as MXNet does: cpu(0), gpu(0), and gpusim(0), opencl(0) for the others.
/// <c>new Device(DeviceKind.Cpu, n)</c> is MXNet's cpu(n): a distinct device on the same processor and memory,
/// for testing multi-device code on one machine.
/// </summary>
public readonly record struct Device(DeviceKind Kind, int Ordinal)
{
    public static Device Cpu { get; } = new(DeviceKind.Cpu, 0);

    public static Device Cuda(int ordinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return new Device(DeviceKind.Cuda, ordinal);
    }

    /// <summary>A simulated GPU: the GPU kernels on ILGPU's CPU accelerator (see <see cref="DeviceKind"/>).</summary>
    public static Device GpuSimulator(int ordinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return new Device(DeviceKind.GpuSimulator, ordinal);
    }

    public static Device OpenCL(int ordinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return new Device(DeviceKind.OpenCL, ordinal);
    }

    /// <summary>Whether the device runs the GPU backend's kernels (CUDA, OpenCL or the simulator).</summary>
    public bool IsGpuBackend => Kind is DeviceKind.Cuda or DeviceKind.GpuSimulator or DeviceKind.OpenCL;

    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => $"cpu({Ordinal})",
        DeviceKind.Cuda => $"gpu({Ordinal})",
        DeviceKind.GpuSimulator => $"gpusim({Ordinal})",
        DeviceKind.OpenCL => $"opencl({Ordinal})",
        _ => $"device({(int)Kind}, {Ordinal})",
    };

    /// <summary>Parses cpu, cpu(0), gpu(1), cuda:1, gpusim, gpusim(0), opencl:0 (for command-line options).</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().ToLowerInvariant();
        string name = s;
        int ordinal = 0;
        int open = s.IndexOfAny(['(', ':']);
        if (open >= 0)
        {
            name = s[..open];
            string digits = s[(open + 1)..].TrimEnd(')');
            if (!int.TryParse(digits, out ordinal) || ordinal < 0)
                throw new ArgumentException(
                    $"device '{text}': '{digits}' is not a device number; write e.g. cuda:0 or gpu(0).", nameof(text));
        }
        return name switch
        {
            "cpu" => Cpu,
            "gpu" or "cuda" => Cuda(ordinal),
            "gpusim" or "simulator" => GpuSimulator(ordinal),
            "opencl" or "cl" => OpenCL(ordinal),
            _ => throw new ArgumentException(
                $"device '{text}' is not known; use cpu, cuda:N (or gpu(N)), gpusim:N or opencl:N.", nameof(text)),
        };
    }
}
