namespace Engine.Gluon.Optimizers;

public abstract partial class Optimizer
{
    // Options every optimizer takes (MXNet's Optimizer keyword arguments that apply here).
    private static readonly string[] CommonOptions =
        ["learning_rate", "wd", "rescale_grad", "clip_gradient", "lr_scheduler", "begin_num_update",
         "multi_precision"];

    private static readonly Dictionary<string, (string[] Options, Func<OptimizerOptions, Optimizer> Build)> Registry =
        new()
        {
            ["sgd"] = (["momentum", "lazy_update"], o => new SGD(o.Double("learning_rate"),
                o.Double("momentum") ?? 0, o.Double("wd") ?? 0)),
            ["nag"] = (["momentum"], o => new NAG(o.Double("learning_rate"),
                o.Double("momentum") ?? 0, o.Double("wd") ?? 0)),
            ["adam"] = (["beta1", "beta2", "epsilon", "lazy_update"], o => new Adam(o.Double("learning_rate"),
                o.Double("beta1") ?? 0.9, o.Double("beta2") ?? 0.999, o.Double("epsilon") ?? 1e-8,
                o.Double("wd") ?? 0)),
            ["adamw"] = (["beta1", "beta2", "epsilon", "correct_bias"], o => new AdamW(o.Double("learning_rate"),
                o.Double("beta1") ?? 0.9, o.Double("beta2") ?? 0.999, o.Double("epsilon") ?? 1e-6,
                o.Double("wd") ?? 0, o.Bool("correct_bias") ?? true)),
            ["rmsprop"] = (["gamma1", "gamma2", "epsilon", "centered", "clip_weights"], o => new RMSProp(
                o.Double("learning_rate"), o.Double("gamma1") ?? 0.9, o.Double("gamma2") ?? 0.9,
                o.Double("epsilon") ?? 1e-8, o.Bool("centered") ?? false, o.Double("clip_weights"),
                o.Double("wd") ?? 0)),
        };

    /// <summary>The names <see cref="Create"/> knows.</summary>
    public static IReadOnlyCollection<string> Names => Registry.Keys;

    /// <summary>
    /// Creates an optimizer by name (case-insensitive: sgd, nag, adam, adamw, rmsprop) with MXNet's option names, as
    /// <c>mx.optimizer.create</c> does: <c>Optimizer.Create("sgd", new() { ["learning_rate"] = 0.1,
    /// ["momentum"] = 0.9, ["wd"] = 1e-4 })</c>. Options every optimizer takes: learning_rate, wd, rescale_grad,
    /// clip_gradient, lr_scheduler (an LRScheduler), begin_num_update, multi_precision (false only). An unknown
    /// name or option, or a value of the wrong type, is an error that lists what is accepted.
    /// </summary>
    public static Optimizer Create(string name, Dictionary<string, object>? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string key = name.ToLowerInvariant();
        if (!Registry.TryGetValue(key, out var entry))
            throw new ArgumentException(
                $"Optimizer.Create: unknown optimizer '{name}'; known optimizers: {string.Join(", ", Names)}. " +
                "To use your own Optimizer subclass, construct it and pass the instance.", nameof(name));
        var o = new OptimizerOptions(key, options);
        o.CheckKnown([.. CommonOptions, .. entry.Options]);
        if (o.Bool("multi_precision") == true)
            throw new NotSupportedException(
                $"Optimizer.Create(\"{key}\"): multi_precision (float32 master weights for float16) is not " +
                "supported; train float32 parameters and leave multi_precision out.");
        o.Bool("lazy_update");  // only changes row-sparse updates, which dense arrays never take; checked, not used
        var optimizer = entry.Build(o);
        if (o.Double("rescale_grad") is double rescale) optimizer.RescaleGrad = rescale;
        optimizer.ClipGradient = o.Double("clip_gradient");
        if (o.Int("begin_num_update") is int begin) optimizer.BeginNumUpdate = begin;
        optimizer.LRScheduler = o.Scheduler("lr_scheduler");
        return optimizer;
    }
}
