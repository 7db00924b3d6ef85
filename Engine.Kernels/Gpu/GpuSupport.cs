using System.Text;
using Engine.Kernels.Gpu;

namespace Engine.Diagnostics;

/// <summary>
/// What GPU support this process has, and why not when it has none: the CUDA driver library (found or not, its
/// version), the CUDA and OpenCL devices ILGPU sees, and the simulated GPU. Printed by the samples with
/// <c>--device</c> and included in every "device not available" error.
/// </summary>
public sealed record GpuSupport(
    string? DriverLibrary,
    int? DriverVersion,
    IReadOnlyList<string> CudaDevices,
    IReadOnlyList<string> OpenCLDevices,
    string? IlgpuError)
{
    /// <summary>CUDA 11.0, the oldest driver this backend is meant for (ILGPU 1.5.3 emits PTX ISA 7.0 and newer).
    /// </summary>
    public const int MinimumDriverVersion = 11000;

    public bool HasCuda => CudaDevices.Count > 0;

    /// <summary>Why there is no CUDA device, or null when there is one.</summary>
    public string? CudaReason =>
        HasCuda ? null
        : IlgpuError is not null ? $"ILGPU could not start ({IlgpuError})"
        : DriverLibrary is null ? $"no CUDA driver library ({CudaDriver.SearchedNames}): install the NVIDIA driver"
        : DriverVersion is { } v && v < MinimumDriverVersion
            ? $"the CUDA driver {FormatVersion(v)} is too old; {FormatVersion(MinimumDriverVersion)} or newer is needed"
        : $"the CUDA driver {FormatVersion(DriverVersion)} ({DriverLibrary}) reports no usable device " +
          "(no NVIDIA GPU, none visible through CUDA_VISIBLE_DEVICES, or one ILGPU 1.5.3 does not support)";

    /// <summary>Looks once (cheap after the first call: the context is kept).</summary>
    public static GpuSupport Detect()
    {
        var context = GpuDevices.Context;
        string? error = context is null ? GpuDevices.ContextError : null;
        var cuda = GpuDevices.CudaDevices.Select((d, i) =>
            $"gpu({i}): {d.Name}, {d.Architecture?.ToString() ?? "unknown architecture"}, " +
            $"{d.MemorySize / (1 << 20)} MiB, {d.NumMultiprocessors} SMs").ToArray();
        var cl = GpuDevices.OpenCLDevices.Select((d, i) => $"opencl({i}): {d.Name}").ToArray();
        return new GpuSupport(CudaDriver.LibraryName, CudaDriver.Version(), cuda, cl, error);
    }

    public override string ToString()
    {
        var s = new StringBuilder("GPU support:");
        s.Append("\n  CUDA driver: ").Append(DriverLibrary is null
            ? "not found"
            : $"{DriverLibrary}, version {FormatVersion(DriverVersion)}");
        if (HasCuda) foreach (var d in CudaDevices) s.Append("\n  ").Append(d);
        else s.Append("\n  CUDA devices: none; ").Append(CudaReason);
        s.Append("\n  OpenCL devices: ").Append(OpenCLDevices.Count == 0 ? "none" : string.Join("; ", OpenCLDevices));
        s.Append("\n  simulated GPU: ").Append(IlgpuError is null
            ? "gpusim(0) (ILGPU's CPU accelerator; runs the GPU kernels slowly, for tests)"
            : "unavailable");
        return s.ToString();
    }

    private static string FormatVersion(int? v) => v is { } x ? $"{x / 1000}.{x % 1000 / 10}" : "unknown";
}
