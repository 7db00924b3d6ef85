using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using Engine.Kernels.Cpu;

namespace Engine.Tests.Conformance;

/// <summary>
/// The conformance suite runs once per instruction-set path (`dotnet cake --target=ConformancePaths`), each run
/// forced by the .NET runtime's knobs. This checks that a forced run really runs the path it asked for: a knob
/// the runtime does not read (.NET 10 renamed DOTNET_EnableAVX512F to DOTNET_EnableAVX512) would otherwise leave
/// every run on the widest path and the narrow ones untested.
/// </summary>
[TestFixture]
[Category("Conformance")]
public class InstructionSetPathTests
{
    /// <summary>Set by the ConformancePaths target to the path it forces.</summary>
    private const string RequestedVariable = "ENGINE_TEST_CPU_PATH";

    [Test]
    public void RunsNoWiderPathThanRequested()
    {
        TestContext.Progress.WriteLine($"CPU kernels: {CpuInstructionSet.Describe()}");
        string? requested = Environment.GetEnvironmentVariable(RequestedVariable);
        if (string.IsNullOrEmpty(requested)) Assert.Pass($"{RequestedVariable} not set: the machine's own path");
        var path = Enum.Parse<CpuVectorPath>(requested);
        // Narrower than requested is fine (the machine lacks the instructions); wider means the knob was ignored.
        ((int)CpuInstructionSet.Active).ShouldBeLessThanOrEqualTo((int)path,
            $"{CpuInstructionSet.Active} runs where {path} was forced with " +
            string.Join(" ", CpuInstructionSet.ForcingVariables(path).Select(v => v.Key)));
    }

    /// <summary>
    /// On ARM64 (tools/arm64-check.sh) the kernels' vector path is Vector128 on AdvSimd, whose FMA is hardware:
    /// nothing there may fall back to scalar code unless scalar was forced.
    /// </summary>
    [Test]
    public void Arm64RunsTheAdvSimdPath()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.Arm64) Assert.Pass("not an ARM64 process");
        if (Environment.GetEnvironmentVariable(RequestedVariable) == nameof(CpuVectorPath.Scalar))
            Assert.Pass("the scalar path was forced");
        AdvSimd.IsSupported.ShouldBeTrue();
        CpuInstructionSet.Active.ShouldBe(CpuVectorPath.Vector128);
        CpuInstructionSet.Describe().ShouldContain("AdvSimd");
    }

    [Test]
    public void ForcingVariablesNameTheRuntimeKnobs()
    {
        CpuInstructionSet.ForcingVariables(CpuVectorPath.Vector512).ShouldBeEmpty();
        CpuInstructionSet.ForcingVariables(CpuVectorPath.Vector256).Keys.ShouldContain("DOTNET_EnableAVX512");
        CpuInstructionSet.ForcingVariables(CpuVectorPath.Vector128)["DOTNET_EnableAVX2"].ShouldBe("0");
        CpuInstructionSet.ForcingVariables(CpuVectorPath.Scalar)["DOTNET_EnableHWIntrinsic"].ShouldBe("0");
        Should.Throw<ArgumentOutOfRangeException>(() => CpuInstructionSet.ForcingVariables((CpuVectorPath)9))
            .Message.ShouldContain("CpuInstructionSet: unknown path");
    }
}
