namespace Engine.Ops;

/// <summary>sgd_update and sgd_mom_update: learning rate, weight decay, gradient rescale and clip, momentum.</summary>
public sealed record SgdUpdateAttrs(double Lr, double Wd = 0, double RescaleGrad = 1, double ClipGradient = -1,
    double Momentum = 0) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["lr"] = Format.Number(Lr), ["wd"] = Format.Number(Wd), ["rescale_grad"] = Format.Number(RescaleGrad),
        ["clip_gradient"] = Format.Number(ClipGradient), ["momentum"] = Format.Number(Momentum),
    };
}

/// <summary>adam_update's hyper-parameters (the bias correction is folded into Lr by the caller, as MXNet).</summary>
public sealed record AdamUpdateAttrs(double Lr, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8,
    double Wd = 0, double RescaleGrad = 1, double ClipGradient = -1) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["lr"] = Format.Number(Lr), ["beta1"] = Format.Number(Beta1), ["beta2"] = Format.Number(Beta2),
        ["epsilon"] = Format.Number(Epsilon), ["wd"] = Format.Number(Wd),
        ["rescale_grad"] = Format.Number(RescaleGrad), ["clip_gradient"] = Format.Number(ClipGradient),
    };
}

/// <summary>
/// MXNet's fused optimizer updates: they write the weight and the optimizer state in place (declared in
/// <see cref="OpDef.Mutates"/>) and have no outputs. Inputs: weight, grad, then the state (mom; mean, var).
/// </summary>
[OpTable]
public static class OptimizerOps
{
    public static readonly OpDef<SgdUpdateAttrs> SgdUpdate = new("sgd_update", 2, 0, Rule("sgd_update"))
    {
        Mutates = [0],
        Scratch = static (_, _) => 0,
    };

    public static readonly OpDef<SgdUpdateAttrs> SgdMomUpdate = new("sgd_mom_update", 3, 0, Rule("sgd_mom_update"))
    {
        Mutates = [0, 2],
        Scratch = static (_, _) => 0,
    };

    public static readonly OpDef<AdamUpdateAttrs> AdamUpdate = new("adam_update", 4, 0, Rule("adam_update"))
    {
        Mutates = [0, 2, 3],
        Scratch = static (_, _) => 0,
    };

    /// <summary>float32 weight, gradient and state of one shape; nothing produced.</summary>
    private static ShapeRule<OpAttrs> Rule(string name) => (_, t) =>
    {
        if (t[0].DType != DType.Float32)
            throw new ArgumentException(
                $"{name}: the fused update takes a float32 weight, got {t[0].DType.Name()}; use the Nd." +
                "*Update methods, which fall back to array arithmetic for other dtypes.");
        for (int k = 1; k < t.Length; k++)
        {
            if (t[k] != t[0])
                throw new ArgumentException($"{name}: input {k} is {t[k]} but the weight is {t[0]}; they must match.");
        }
        return [];
    };
}
