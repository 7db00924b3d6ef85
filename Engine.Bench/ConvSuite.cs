using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// <see cref="CpuConvolution"/> forward, backward-data and backward-weight on every LeNet and ResNet-18 layer shape
/// of cases.json. GFLOP/s from 2 N K C R S OH OW, the same count for all three passes.
/// </summary>
public static class ConvSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        var random = new Random(2);
        foreach (var c in BenchCases.Current.Conv)
        {
            string[] passes = ["fwd", "bwd_data", "bwd_weight"];
            if (!passes.Any(p => ctx.Wants(c.Case(p)))) continue;
            var d = c.Describe();
            using var x = new NativeFloats(d.InputSize, random);
            using var w = new NativeFloats(d.WeightSize, random);
            using var bias = new NativeFloats(c.Bias ? c.K : 0, random);
            using var y = new NativeFloats(d.OutputSize);
            using var dy = new NativeFloats(d.OutputSize, random);
            using var dx = new NativeFloats(d.InputSize);
            using var dw = new NativeFloats(d.WeightSize);
            if (ctx.Wants(c.Case("fwd")))
                yield return ctx.Measure(c.Case("fwd"),
                    () => CpuConvolution.Forward<float>(d, x.Span, w.Span, bias.Span, y.Span), c.Flops);
            if (ctx.Wants(c.Case("bwd_data")))
                yield return ctx.Measure(c.Case("bwd_data"),
                    () => CpuConvolution.BackwardData<float>(d, dy.Span, w.Span, dx.Span), c.Flops);
            if (ctx.Wants(c.Case("bwd_weight")))
                yield return ctx.Measure(c.Case("bwd_weight"),
                    () => CpuConvolution.BackwardWeight<float>(d, x.Span, dy.Span, dw.Span), c.Flops);
        }
    }
}
