using Engine.Kernels;
using Engine.Ops;

namespace Engine.Bench;

/// <summary>
/// The layers suite on a device other than the CPU: each pass is the operator the GPU backend runs, on arrays
/// allocated on <see cref="BenchContext.Device"/>, with the same case names and byte counts as the CPU kernels.
/// </summary>
public static class LayersOnDevice
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx, LayerCase layer, Random random)
    {
        bool hasBackward = layer.Op is not ("relu" or "add");
        bool wantForward = ctx.Wants(layer.Case("fwd")), wantBackward = hasBackward && ctx.Wants(layer.Case("bwd"));
        if (!wantForward && !wantBackward) yield break;
        var owned = new List<NDArray>();
        try
        {
            foreach (var result in Passes(ctx, layer, random, owned, wantForward, wantBackward))
                yield return result;
        }
        finally
        {
            foreach (var a in owned) a.Dispose();
        }
    }

    private static IEnumerable<BenchResult> Passes(BenchContext ctx, LayerCase layer, Random random,
        List<NDArray> owned, bool wantForward, bool wantBackward)
    {
        int[] s = layer.Shape;
        long count = s.Aggregate(1L, (p, v) => p * v);
        NDArray Keep(NDArray a)
        {
            owned.Add(a);
            return a;
        }
        var x = Keep(ctx.Uniform(random, s));
        var (forward, backward) = layer.Op switch
        {
            "max_pool" => Pooling(new PoolingAttrs(PoolingMode.Max, new Dims(2, 2), new Dims(2, 2), new Dims(0, 0)),
                ctx, x, random, Keep),
            "global_avg_pool" => Pooling(
                new PoolingAttrs(PoolingMode.Avg, new Dims(1, 1), new Dims(1, 1), new Dims(0, 0), GlobalPool: true),
                ctx, x, random, Keep),
            "batch_norm" => BatchNorm(ctx, x, random, Keep),
            "layer_norm" => SampleNorm(new LayerNormAttrs(), s[^1], ctx, x, random, Keep),
            "instance_norm" => SampleNorm(new InstanceNormAttrs(), s[1], ctx, x, random, Keep),
            "group_norm" => SampleNorm(new GroupNormAttrs(LayersSuite.NormGroups), LayersSuite.NormGroups, ctx, x,
                random, Keep),
            "softmax" => Softmax(ctx, x, random, Keep),
            "relu" => (() => Nd.Relu(x), null),
            "add" => Add(ctx, x, random, Keep),
            _ => throw new InvalidOperationException(
                $"Engine.Bench layers: cases.json names op '{layer.Op}', which this suite does not know; use " +
                "max_pool, global_avg_pool, batch_norm, layer_norm, instance_norm, group_norm, softmax, relu or add."),
        };
        double bytes = layer.Op switch
        {
            "relu" => 2.0 * sizeof(float) * count,
            "add" => 3.0 * sizeof(float) * count,
            _ => 0,
        };
        if (wantForward)
            yield return ctx.Measure(layer.Case("fwd"), () => Dispose(forward()), bytes: bytes);
        if (backward is not null && wantBackward)
            yield return ctx.Measure(layer.Case("bwd"), () => Dispose(backward()));
    }

    private static void Dispose(object result)
    {
        if (result is NDArray a) a.Dispose();
        else foreach (var y in (NDArray[])result) y.Dispose();
    }

    private static (Func<object>, Func<object>?) Pooling(PoolingAttrs attrs, BenchContext ctx, NDArray x,
        Random random, Func<NDArray, NDArray> keep)
    {
        var y = keep(PoolingOps.Pooling.Call(attrs, x));
        var dy = keep(ctx.Uniform(random, y.Shape.ToArray()));
        return (() => PoolingOps.Pooling.Call(attrs, x), () => PoolingOps.PoolingBackward.Call(attrs, x, y, dy));
    }

    private static (Func<object>, Func<object>?) BatchNorm(BenchContext ctx, NDArray x, Random random,
        Func<NDArray, NDArray> keep)
    {
        int c = x.Shape[1];
        var attrs = new BatchNormAttrs(Training: true);
        var gamma = keep(ctx.Uniform(random, c));
        var beta = keep(ctx.Uniform(random, c));
        var runningMean = keep(Nd.Zeros(new Shape(c), device: ctx.Device));
        var runningVar = keep(Nd.Ones(new Shape(c), device: ctx.Device));
        var saved = NormalizationOps.BatchNorm.Invoke(attrs, x, gamma, beta, runningMean, runningVar);
        foreach (var a in saved) keep(a);
        var dy = keep(ctx.Uniform(random, x.Shape.ToArray()));
        return (() => NormalizationOps.BatchNorm.Invoke(attrs, x, gamma, beta, runningMean, runningVar),
            () => NormalizationOps.BatchNormBackward.Invoke(attrs, x, dy, gamma, saved[1], saved[2]));
    }

    /// <summary>Layer, instance or group norm through their operators; gamma and beta have affine values.</summary>
    private static (Func<object>, Func<object>?) SampleNorm(SampleNormAttrs attrs, int affine, BenchContext ctx,
        NDArray x, Random random, Func<NDArray, NDArray> keep)
    {
        var (forward, backward) = attrs switch
        {
            LayerNormAttrs => (SampleNormOps.LayerNorm, SampleNormOps.LayerNormBackward),
            InstanceNormAttrs => (SampleNormOps.InstanceNorm, SampleNormOps.InstanceNormBackward),
            _ => ((OpDef)SampleNormOps.GroupNorm, (OpDef)SampleNormOps.GroupNormBackward),
        };
        var gamma = keep(ctx.Uniform(random, affine));
        var beta = keep(ctx.Uniform(random, affine));
        var saved = forward.Invoke(attrs, x, gamma, beta);
        foreach (var a in saved) keep(a);
        var dy = keep(ctx.Uniform(random, x.Shape.ToArray()));
        return (() => forward.Invoke(attrs, x, gamma, beta),
            () => backward.Invoke(attrs, x, dy, gamma, saved[1], saved[2]));
    }

    private static (Func<object>, Func<object>?) Softmax(BenchContext ctx, NDArray x, Random random,
        Func<NDArray, NDArray> keep)
    {
        var attrs = new SoftmaxAttrs();
        var y = keep(NormalizationOps.Softmax.Call(attrs, x));
        var dy = keep(ctx.Uniform(random, x.Shape.ToArray()));
        return (() => NormalizationOps.Softmax.Call(attrs, x),
            () => NormalizationOps.SoftmaxBackward.Call(attrs, y, dy));
    }

    private static (Func<object>, Func<object>?) Add(BenchContext ctx, NDArray a, Random random,
        Func<NDArray, NDArray> keep)
    {
        var b = keep(ctx.Uniform(random, a.Shape.ToArray()));
        return (() => Nd.Add(a, b), null);
    }
}
