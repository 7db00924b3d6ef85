using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

/// <summary>The widest vectors the CPU kernels run with, best first.</summary>
public enum CpuVectorPath
{
    /// <summary>No hardware vectors: every kernel runs its scalar loops.</summary>
    Scalar,

    /// <summary>128-bit vectors: SSE on x86, AdvSimd (NEON) on ARM64.</summary>
    Vector128,

    /// <summary>256-bit vectors: AVX2 with FMA on x86.</summary>
    Vector256,

    /// <summary>512-bit vectors: AVX-512 on x86.</summary>
    Vector512,
}

/// <summary>
/// Which instruction-set path the CPU kernels take in this process. Kernels test
/// <c>Vector512.IsHardwareAccelerated</c> and its narrower siblings, which the JIT folds to constants, so a path
/// is chosen once per process by the runtime, and is forced the same way: the .NET runtime's configuration knobs,
/// set before the process starts, hide the wider instruction sets from the JIT (see docs/performance.md).
/// <code>
/// DOTNET_EnableAVX512=0        Vector256 (AVX2 + FMA); .NET 8 and 9 name it DOTNET_EnableAVX512F
/// DOTNET_EnableAVX2=0          Vector128 (SSE, the width ARM64's AdvSimd runs)
/// DOTNET_EnableHWIntrinsic=0   Scalar
/// </code>
/// </summary>
public static class CpuInstructionSet
{
    /// <summary>The path the float kernels (GEMM first) take here.</summary>
    public static CpuVectorPath Active =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? CpuVectorPath.Vector512
        : Vector256.IsHardwareAccelerated ? CpuVectorPath.Vector256
        : Vector128.IsHardwareAccelerated ? CpuVectorPath.Vector128
        : CpuVectorPath.Scalar;

    /// <summary>
    /// The environment variables (the .NET runtime's knobs) that make a process take <paramref name="path"/> on
    /// a machine that supports a wider one; empty for <see cref="CpuVectorPath.Vector512"/>, the widest. Both
    /// spellings of the AVX-512 knob are set, so the same variables work on .NET 8, 9 and 10.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ForcingVariables(CpuVectorPath path) => path switch
    {
        CpuVectorPath.Vector512 => new Dictionary<string, string>(),
        CpuVectorPath.Vector256 => new Dictionary<string, string>
        {
            ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX512F"] = "0",
        },
        CpuVectorPath.Vector128 => new Dictionary<string, string> { ["DOTNET_EnableAVX2"] = "0" },
        CpuVectorPath.Scalar => new Dictionary<string, string> { ["DOTNET_EnableHWIntrinsic"] = "0" },
        _ => throw new ArgumentOutOfRangeException(nameof(path), path,
            $"CpuInstructionSet: unknown path {path}; use Vector512, Vector256, Vector128 or Scalar."),
    };

    /// <summary>
    /// Whether loops written with Vector512 should run as vectors: true wherever the hardware has any vectors. Without
    /// AVX-512 the JIT runs each Vector512 operation as two Vector256 (or four Vector128) instructions, which for
    /// memory-bound loops is as fast as writing them at that width (relu over 1 MB with AVX2: 87 us as Vector512,
    /// 86 as Vector256, 355 scalar); transcendental functions lose about half (exp: 67 us against 35), still well
    /// ahead of scalar code. Only without any vector hardware are the scalar loops faster.
    /// </summary>
    internal static bool Vector512LoopsPay => Vector128.IsHardwareAccelerated;

    /// <summary>A one-line description for logs and benchmark headers: "Vector256 (AVX2, FMA)".</summary>
    public static string Describe()
    {
        var features = new List<string>();
        if (Avx512F.IsSupported) features.Add("AVX-512F");
        if (Avx2.IsSupported) features.Add("AVX2");
        if (Fma.IsSupported) features.Add("FMA");
        if (Sse41.IsSupported && !Avx2.IsSupported) features.Add("SSE4.1");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) features.Add("AdvSimd");
        return features.Count == 0 ? Active.ToString() : $"{Active} ({string.Join(", ", features)})";
    }
}
