using Engine.Kernels;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

public partial class LayoutConformanceTests
{
    /// <summary>
    /// A layout golden case through the operators on the fixture's device (gradients through autograd); slices,
    /// views with optional bounds, stay with the CPU kernel.
    /// </summary>
    private void MatchesPyTorchGoldenThroughOperators(GoldenCase c, string op, string name)
    {
        using var scope = NDArray.Scope();
        NDArray On(string key) => NDArray.FromSpan<float>(c[key].ToFloat32(), c[key].Shape, Device);
        NDArray Indices() => NDArray.FromSpan<long>(c["indices"].ToInt64(), c["indices"].Shape, Device);
        void Check(NDArray y, string key, string what)
        {
            y.Device.ShouldBe(Device);
            y.Shape.ShouldBe(c[key].Shape);
            GoldenClose(y.ToArray(), c[key].ToFloat32(), what);
        }
        void CheckWithGradient(Func<NDArray, NDArray> f)
        {
            var x = On("x");
            x.AttachGrad();
            NDArray y;
            using (Engine.Autograd.Record()) y = f(x);
            Check(y, "y", name);
            y.Backward(On("dy"));
            Check(x.Grad!, "dx", name + " dx");
        }
        int axis = c.Attrs.TryGetProperty("axis", out var a) ? a.GetInt32() : 0;
        switch (op)
        {
            case "permute": Check(On("x").Transpose(Ints(c.Attrs.GetProperty("perm"))).Copy(), "y", name); break;
            case "expand": Check(Nd.BroadcastTo(On("x"), c["y"].Shape), "y", name); break;
            case "cat": Check(Nd.Concat(axis, On("x0"), On("x1"), On("x2")), "y", name); break;
            case "split":
                var parts = Nd.Split(On("x"), Ints(c.Attrs.GetProperty("sizes")), axis);
                for (int k = 0; k < parts.Length; k++) Check(parts[k].Copy(), $"y{k}", $"{name} y{k}");
                break;
            case "take": CheckWithGradient(x => Nd.Take(x, Indices(), axis, TakeMode.Raise)); break;
            case "one_hot":
                var hot = Nd.OneHot(Indices(), c.Attrs.GetProperty("depth").GetInt32(), dtype: DType.Int64);
                hot.Device.ShouldBe(Device);
                TensorAssert.Equal<long>(hot.ToArray<long>(), c["y"].ToInt64(), name);
                break;
            case "pad":
                var mode = Enum.Parse<PadMode>(c.Attrs.GetProperty("mode").GetString()!);
                CheckWithGradient(x => Nd.Pad(x, Ints(c.Attrs.GetProperty("before")),
                    Ints(c.Attrs.GetProperty("after")), mode, c.Attrs.GetProperty("value").GetSingle()));
                break;
            default:
                Assert.Fail($"golden case {name} has unknown op '{op}'");
                break;
        }
    }
}
