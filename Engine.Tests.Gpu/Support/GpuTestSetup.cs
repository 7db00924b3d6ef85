using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Turns on the PTX check for the whole assembly: every kernel the tests load is also compiled for sm_90, so code
/// that runs on the simulator but not on an H100 fails here.
/// </summary>
[SetUpFixture]
public sealed class GpuTestSetup
{
    [OneTimeSetUp]
    public void TurnOnPtxCheck() => GpuPtxCheck.Enabled = true;
}
