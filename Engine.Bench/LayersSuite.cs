using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// The other layer kernels at the LeNet and ResNet-18 sizes of cases.json, called directly: max pooling 2x2 and
/// global average pooling (forward, backward), batch norm (training forward, backward), softmax over the last axis
/// (forward, backward), layer norm over the last axis (forward, backward), relu and add (forward; GB/s from the
/// bytes read and written). On another device (--device) the same passes run as the operators on arrays there
/// (<see cref="LayersOnDevice"/>).
/// </summary>
public static class LayersSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        var random = new Random(3);
        foreach (var layer in BenchCases.Current.Layers)
        {
            if (!ctx.OnCpu)
            {
                foreach (var result in LayersOnDevice.Run(ctx, layer, random)) yield return result;
                continue;
            }
            var results = layer.Op switch
            {
                "max_pool" => Pooling(ctx, layer, random, global: false),
                "global_avg_pool" => Pooling(ctx, layer, random, global: true),
                "batch_norm" => BatchNorm(ctx, layer, random),
                "layer_norm" or "instance_norm" or "group_norm" => SampleNorm(ctx, layer, random),
                "softmax" => Softmax(ctx, layer, random),
                "relu" => Relu(ctx, layer, random),
                "add" => Add(ctx, layer, random),
                _ => throw new InvalidOperationException(
                    $"Engine.Bench layers: cases.json names op '{layer.Op}', which this suite does not know; use " +
                    "max_pool, global_avg_pool, batch_norm, layer_norm, instance_norm, group_norm, softmax, relu or " +
                    "add."),
            };
            foreach (var result in results) yield return result;
        }
    }

    private static IEnumerable<BenchResult> Pooling(BenchContext ctx, LayerCase layer, Random random, bool global)
    {
        int[] s = layer.Shape;
        var d = global
            ? PoolingDescriptor.Global(PoolingMode.Avg, s[0], s[1], s[2], s[3])
            : new PoolingDescriptor(PoolingMode.Max, s[0], s[1], s[2], s[3], 2, 2, 2, 2);
        using var x = new NativeFloats(d.InputLength, random);
        using var y = new NativeFloats(d.OutputLength);
        using var dy = new NativeFloats(d.OutputLength, random);
        using var dx = new NativeFloats(d.InputLength);
        if (ctx.Wants(layer.Case("fwd")))
            yield return ctx.Measure(layer.Case("fwd"), () => CpuPooling.Forward<float>(d, x.Span, y.Span));
        if (ctx.Wants(layer.Case("bwd")))
        {
            CpuPooling.Forward<float>(d, x.Span, y.Span);
            yield return ctx.Measure(layer.Case("bwd"),
                () => CpuPooling.Backward<float>(d, x.Span, y.Span, dy.Span, dx.Span));
        }
    }

    /// <summary>
    /// Groups of the group_norm cases: 32, the usual choice (torch_baseline.py passes the same to F.group_norm,
    /// whose gamma is per channel where MXNet 1.x's, and so the engine's, is per group).
    /// </summary>
    public const int NormGroups = 32;

    /// <summary>
    /// layer_norm over the last axis (gamma per position), instance_norm over each (image, channel) plane and
    /// group_norm over each (image, group of channels), gamma per channel or group, on N C H W shapes.
    /// </summary>
    private static IEnumerable<BenchResult> SampleNorm(BenchContext ctx, LayerCase layer, Random random)
    {
        int[] s = layer.Shape;
        long count = s.Aggregate(1L, (a, b) => a * b);
        var d = layer.Op switch
        {
            "layer_norm" => new SampleNormDescriptor(count / s[^1], s[^1], 1, NormAffine.PerPosition),
            "instance_norm" => new SampleNormDescriptor((long)s[0] * s[1], count / s[0] / s[1], 1,
                NormAffine.PerOuter, s[1]),
            _ => new SampleNormDescriptor((long)s[0] * NormGroups, count / s[0] / NormGroups, 1, NormAffine.PerOuter,
                NormGroups),
        };
        long affine = d.AffineCount;
        using var x = new NativeFloats(d.Count, random);
        using var y = new NativeFloats(d.Count);
        using var dy = new NativeFloats(d.Count, random);
        using var dx = new NativeFloats(d.Count);
        using var gamma = new NativeFloats(affine, random);
        using var beta = new NativeFloats(affine, random);
        using var dgamma = new NativeFloats(affine);
        using var dbeta = new NativeFloats(affine);
        using var mean = new NativeFloats(d.Statistics);
        using var std = new NativeFloats(d.Statistics);
        void Forward() => CpuSampleNorm.Forward<float>(d, x.Span, gamma.Span, beta.Span, y.Span, mean.Span,
            std.Span);
        if (ctx.Wants(layer.Case("fwd")))
            yield return ctx.Measure(layer.Case("fwd"), Forward);
        if (ctx.Wants(layer.Case("bwd")))
        {
            Forward();
            yield return ctx.Measure(layer.Case("bwd"), () => CpuSampleNorm.Backward<float>(d, x.Span, dy.Span,
                gamma.Span, mean.Span, std.Span, dx.Span, dgamma.Span, dbeta.Span));
        }
    }

    private static IEnumerable<BenchResult> BatchNorm(BenchContext ctx, LayerCase layer, Random random)
    {
        var d = BatchNormDescriptor.ForAxis(new Shape(layer.Shape));
        long count = d.Count;
        int c = d.Channels;
        using var x = new NativeFloats(count, random);
        using var y = new NativeFloats(count);
        using var dy = new NativeFloats(count, random);
        using var dx = new NativeFloats(count);
        using var gamma = new NativeFloats(c, random);
        using var beta = new NativeFloats(c, random);
        using var mean = new NativeFloats(c);
        using var invStd = new NativeFloats(c);
        using var runningMean = new NativeFloats(c);
        using var runningVar = new NativeFloats(c);
        using var dgamma = new NativeFloats(c);
        using var dbeta = new NativeFloats(c);
        runningVar.Span.Fill(1);
        void Forward() => CpuBatchNorm.ForwardTraining<float>(d, x.Span, gamma.Span, beta.Span, y.Span, mean.Span,
            invStd.Span, runningMean.Span, runningVar.Span);
        if (ctx.Wants(layer.Case("fwd")))
            yield return ctx.Measure(layer.Case("fwd"), Forward);
        if (ctx.Wants(layer.Case("bwd")))
        {
            Forward();
            yield return ctx.Measure(layer.Case("bwd"), () => CpuBatchNorm.Backward<float>(d, x.Span, dy.Span,
                gamma.Span, mean.Span, invStd.Span, dx.Span, dgamma.Span, dbeta.Span));
        }
    }

    private static IEnumerable<BenchResult> Softmax(BenchContext ctx, LayerCase layer, Random random)
    {
        int axis = layer.Shape[^1];
        long count = layer.Shape.Aggregate(1L, (p, v) => p * v), outer = count / axis;
        using var x = new NativeFloats(count, random);
        using var y = new NativeFloats(count);
        using var dy = new NativeFloats(count, random);
        using var dx = new NativeFloats(count);
        if (ctx.Wants(layer.Case("fwd")))
            yield return ctx.Measure(layer.Case("fwd"),
                () => CpuSoftmax.Softmax<float>(outer, axis, 1, x.Span, y.Span));
        if (ctx.Wants(layer.Case("bwd")))
        {
            CpuSoftmax.Softmax<float>(outer, axis, 1, x.Span, y.Span);
            yield return ctx.Measure(layer.Case("bwd"),
                () => CpuSoftmax.SoftmaxBackward<float>(outer, axis, 1, y.Span, dy.Span, dx.Span));
        }
    }

    private static IEnumerable<BenchResult> Relu(BenchContext ctx, LayerCase layer, Random random)
    {
        if (!ctx.Wants(layer.Case("fwd"))) yield break;
        var layout = TensorLayout.Contiguous(new Shape(layer.Shape));
        using var x = new NativeFloats(layout.Shape.Size, random);
        using var y = new NativeFloats(layout.Shape.Size);
        yield return ctx.Measure(layer.Case("fwd"),
            () => CpuElementwise.Unary(new ReluOperator<float>(), x.Span, layout, y.Span),
            bytes: 2.0 * sizeof(float) * layout.Shape.Size);
    }

    private static IEnumerable<BenchResult> Add(BenchContext ctx, LayerCase layer, Random random)
    {
        if (!ctx.Wants(layer.Case("fwd"))) yield break;
        var layout = TensorLayout.Contiguous(new Shape(layer.Shape));
        using var a = new NativeFloats(layout.Shape.Size, random);
        using var b = new NativeFloats(layout.Shape.Size, random);
        using var y = new NativeFloats(layout.Shape.Size);
        yield return ctx.Measure(layer.Case("fwd"),
            () => CpuElementwise.Binary(new AddOperator<float>(), a.Span, layout, b.Span, layout, y.Span),
            bytes: 3.0 * sizeof(float) * layout.Shape.Size);
    }
}
