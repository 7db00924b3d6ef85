using Engine.Ops;
using Engine.Tests.Autograd;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// Every operator case of the gradient table run twice: on contiguous inputs and on non-contiguous views of the
/// same values (a transposed copy transposed back). Results must agree to float64 rounding (vector and scalar paths may
/// differ in the last bit): kernels that need contiguous data
/// copy it first, strided kernels read the view directly.
/// </summary>
[Category("Conformance")]
public class NonContiguousConformanceTests(Device device) : DeviceFixture(device)
{
    public static IEnumerable<GradientCase> Cases() =>
        GradientCheckTests.Cases().Where(c => !c.Op.StartsWith("_backward", StringComparison.Ordinal));

    [TestCaseSource(nameof(Cases))]
    public void StridedInputsGiveTheSameResult(GradientCase c)
    {
        using var scope = NDArray.Scope();
        var op = OpRegistry.Get(c.Op);
        var inputs = c.Inputs(new Random(11));
        var strided = inputs.Select(x => x.Rank >= 2 ? x.T.Copy().T : x).ToArray();
        if (strided.All(x => x.IsContiguous)) Assert.Ignore("no input of rank 2 or more");
        strided.Any(x => !x.IsContiguous).ShouldBeTrue();
        var expected = op.Invoke(c.Attrs, inputs);
        var actual = op.Invoke(c.Attrs, strided);
        for (int k = 0; k < expected.Length; k++)
        {
            actual[k].Shape.ShouldBe(expected[k].Shape);
            TensorAssert.AllClose(actual[k].ToArray<double>(), expected[k].ToArray<double>(), Tolerances.Float64,
                $"{c} output {k}");
        }
    }
}
