using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Bench;

/// <summary>
/// <see cref="CpuConvolution"/> forward, backward-data and backward-weight on every LeNet and ResNet-18 layer shape
/// of cases.json. GFLOP/s from 2 N K C R S OH OW, the same count for all three passes. Then the transposed
/// convolutions of a DCGAN generator (cases.json "deconv") as the Deconvolution operator runs them: forward is the
/// data gradient of the convolution from the output back to the input, and fwd_bwd adds that convolution's forward
/// (the input gradient) and weight gradient. On another device (--device) the
/// passes are the convolution operators on arrays there.
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
            if (!ctx.OnCpu)
            {
                foreach (var result in OnDevice(ctx, c, passes, random)) yield return result;
                continue;
            }
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
        foreach (var result in RunDeconvolution(ctx, random)) yield return result;
    }

    private static IEnumerable<BenchResult> RunDeconvolution(BenchContext ctx, Random random)
    {
        foreach (var c in BenchCases.Current.Deconv ?? [])
        {
            if (!ctx.Wants(c.Case("fwd")) && !ctx.Wants(c.Case("fwd_bwd"))) continue;
            var d = c.Describe();
            // Named as the transposed convolution sees them: x is d's output, y its input.
            using var x = new NativeFloats(d.OutputSize, random);
            using var w = new NativeFloats(d.WeightSize, random);
            using var y = new NativeFloats(d.InputSize);
            using var dy = new NativeFloats(d.InputSize, random);
            using var dx = new NativeFloats(d.OutputSize);
            using var dw = new NativeFloats(d.WeightSize);
            if (ctx.Wants(c.Case("fwd")))
                yield return ctx.Measure(c.Case("fwd"),
                    () => CpuConvolution.BackwardData<float>(d, x.Span, w.Span, y.Span), c.Flops);
            if (ctx.Wants(c.Case("fwd_bwd")))
                yield return ctx.Measure(c.Case("fwd_bwd"), () =>
                {
                    CpuConvolution.BackwardData<float>(d, x.Span, w.Span, y.Span);
                    CpuConvolution.Forward<float>(d, dy.Span, w.Span, default, dx.Span);
                    CpuConvolution.BackwardWeight<float>(d, dy.Span, x.Span, dw.Span);
                }, 3 * c.Flops);
        }
    }

    private static IEnumerable<BenchResult> OnDevice(BenchContext ctx, ConvCase c, string[] passes, Random random)
    {
        var d = c.Describe();
        using var x = ctx.Uniform(random, c.N, c.C, c.H, c.W);
        using var w = ctx.Uniform(random, c.K, c.C, c.R, c.S);
        using var bias = c.Bias ? ctx.Uniform(random, c.K) : null;
        using var dy = ctx.Uniform(random, c.N, c.K, d.OutHeight, d.OutWidth);
        var attrs = new ConvolutionAttrs(new Dims(c.Stride, c.Stride), new Dims(c.Pad, c.Pad), new Dims(1, 1), 1,
            !c.Bias);
        Func<NDArray>[] bodies =
        [
            () => ConvolutionOps.Convolution.Call(attrs, c.Bias ? [x, w, bias!] : [x, w]),
            () => ConvolutionOps.ConvolutionBackwardData.Call(
                new ConvolutionBackwardAttrs(attrs, new Dims(c.N, c.C, c.H, c.W)), dy, w),
            () => ConvolutionOps.ConvolutionBackwardWeight.Call(
                new ConvolutionBackwardAttrs(attrs, new Dims(c.K, c.C, c.R, c.S)), x, dy),
        ];
        for (int p = 0; p < passes.Length; p++)
        {
            if (!ctx.Wants(c.Case(passes[p]))) continue;
            var body = bodies[p];
            yield return ctx.Measure(c.Case(passes[p]), () => body().Dispose(), c.Flops);
        }
    }
}
