using Engine.Ops;
using Engine.Tests.Autograd;
using Engine.Tests.Core;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// The main suite's operator table (a forward case for every operator) run through <c>Nd</c> on the GPU device:
/// inputs copied there with <see cref="NDArray.CopyTo"/>, the operator run by the GPU backend, the outputs and
/// mutated inputs copied back and compared with the CPU backend's. Once as the table gives it (float64 mostly),
/// once with float64 inputs cast to float32, which is where the GPU kernels (rather than host fallbacks) run.
/// </summary>
public sealed class GpuOperatorTests : GpuFixture
{
    public static IEnumerable<GradientCase> Cases() => OperatorContractTests.ForwardCases();

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheCpuBackend(GradientCase c) => Compare(c, float32: false);

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheCpuBackendInFloat32(GradientCase c) => Compare(c, float32: true);

    private static void Compare(GradientCase c, bool float32)
    {
        using var scope = NDArray.Scope();
        var op = OpRegistry.Get(c.Op);
        if (op.IsView) Assert.Ignore("a view: no kernel");
        var attrs = float32 ? AsFloat32(c.Attrs) : c.Attrs;
        var cpuInputs = c.Inputs(new Random(11));
        if (float32)
            cpuInputs = cpuInputs.Select(x => x.DType == DType.Float64 ? x.AsType(DType.Float32) : x).ToArray();
        var gpuInputs = cpuInputs.Select(x => x.CopyTo(TestDevice)).ToArray();
        var expected = op.Invoke(attrs, cpuInputs);
        NDArray[] actual;
        using (DefaultDevice.Use(TestDevice)) actual = op.Invoke(attrs, gpuInputs);
        actual.Length.ShouldBe(expected.Length);
        double rtol = float32 ? 2e-4 : 1e-9, atol = float32 ? 1e-5 : 1e-10;
        for (int k = 0; k < actual.Length; k++)
        {
            actual[k].Device.ShouldBe(TestDevice);
            actual[k].Shape.ShouldBe(expected[k].Shape);
            actual[k].DType.ShouldBe(expected[k].DType);
            Close(actual[k].ToArray<double>(), expected[k].ToArray<double>(), rtol, atol, $"{c} output {k}");
        }
        foreach (int k in op.Mutates)
            Close(gpuInputs[k].ToArray<double>(), cpuInputs[k].ToArray<double>(), rtol, atol, $"{c} input {k}");
    }

    /// <summary>Attributes that name float64 outputs name float32 in the float32 run.</summary>
    private static OpAttrs AsFloat32(OpAttrs attrs) => attrs switch
    {
        RandomAttrs r when r.DType == DType.Float64 => r with { DType = DType.Float32 },
        FullAttrs f when f.DType == DType.Float64 => f with { DType = DType.Float32 },
        OneHotAttrs h when h.DType == DType.Float64 => h with { DType = DType.Float32 },
        FusedElementwiseAttrs f when f.Program.DType == DType.Float64 => f with
        {
            Program = new Engine.Kernels.Fusion.FusedProgram(DType.Float32, f.Program.NumInputs,
                f.Program.Instructions.Select(i => new Engine.Kernels.Fusion.FusedInstruction(i.Name,
                    OpRegistry.Get(i.Name).Math!.Operator(NoAttrs.Instance, DType.Float32), i.Operands.ToArray()))
                    .ToList(), f.Program.Outputs),
        },
        _ => attrs,
    };

    private static void Close(double[] actual, double[] expected, double rtol, double atol, string what)
    {
        actual.Length.ShouldBe(expected.Length, what);
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (a == e || double.IsNaN(a) && double.IsNaN(e)) continue;
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}: element {i} is {a} on the GPU, {e} on the CPU.");
        }
    }
}
