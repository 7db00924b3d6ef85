using Engine.Ops;

namespace Engine;

/// <summary>
/// MXNet's optimizer update operators (<c>mx.nd.sgd_update</c>, <c>sgd_mom_update</c>, <c>adam_update</c>): they
/// update the weight and the optimizer state in place (MXNet's <c>out=weight</c>) and record nothing. A float32,
/// contiguous CPU weight runs one fused pass; anything else runs the same formula with NDArray operators. A plain
/// training loop written with Nd operators steps with them:
/// <code>
/// loss.Backward();
/// foreach (var w in parameters) Nd.SgdUpdate(w, w.Grad!, lr: 0.01);
/// </code>
/// With g = clip(rescaleGrad * grad, -clipGradient, clipGradient) (no clipping when clipGradient &lt;= 0), as MXNet:
/// weight decay is applied outside the clip for SGD and inside it for Adam.
/// </summary>
public static partial class Nd
{
    /// <summary>weight = (1 - lr * wd) * weight - lr * g.</summary>
    public static void SgdUpdate(NDArray weight, NDArray grad, double lr, double wd = 0, double rescaleGrad = 1,
        double clipGradient = -1)
    {
        CheckUpdate("sgd_update", weight, grad, [], lr, wd, rescaleGrad);
        if (CanFuse(OptimizerOps.SgdUpdate, weight, grad, []))
        {
            OptimizerOps.SgdUpdate.Invoke(new SgdUpdateAttrs(lr, wd, rescaleGrad, clipGradient), weight, grad);
            return;
        }
        using var scope = NDArray.Scope();
        weight.Assign((1 - lr * wd) * weight - lr * ClipForUpdate(grad * rescaleGrad, clipGradient));
    }

    /// <summary>mom = momentum * mom - lr * wd * weight - lr * g; weight += mom.</summary>
    public static void SgdMomUpdate(NDArray weight, NDArray grad, NDArray mom, double lr, double momentum = 0,
        double wd = 0, double rescaleGrad = 1, double clipGradient = -1)
    {
        CheckUpdate("sgd_mom_update", weight, grad, [("mom", mom)], lr, wd, rescaleGrad);
        if (CanFuse(OptimizerOps.SgdMomUpdate, weight, grad, [mom]))
        {
            OptimizerOps.SgdMomUpdate.Invoke(new SgdUpdateAttrs(lr, wd, rescaleGrad, clipGradient, momentum), weight,
                grad, mom);
            return;
        }
        using var scope = NDArray.Scope();
        mom.Assign(momentum * mom - lr * wd * weight - lr * ClipForUpdate(grad * rescaleGrad, clipGradient));
        weight.Assign(weight + mom);
    }

    /// <summary>
    /// g = clip(rescaleGrad * grad + wd * weight); mean = beta1 * mean + (1 - beta1) * g;
    /// var = beta2 * var + (1 - beta2) * g^2; weight -= lr * mean / (sqrt(var) + epsilon). As in MXNet, the bias
    /// correction is the caller's: pass lr * sqrt(1 - beta2^t) / (1 - beta1^t).
    /// </summary>
    public static void AdamUpdate(NDArray weight, NDArray grad, NDArray mean, NDArray var, double lr,
        double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double wd = 0, double rescaleGrad = 1,
        double clipGradient = -1)
    {
        CheckUpdate("adam_update", weight, grad, [("mean", mean), ("var", var)], lr, wd, rescaleGrad);
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1 || !(epsilon >= 0))
            throw new ArgumentOutOfRangeException(nameof(beta1),
                $"adam_update: beta1 and beta2 must lie in [0, 1) and epsilon be >= 0, got beta1 {beta1}, beta2 " +
                $"{beta2}, epsilon {epsilon}.");
        if (CanFuse(OptimizerOps.AdamUpdate, weight, grad, [mean, var]))
        {
            OptimizerOps.AdamUpdate.Invoke(new AdamUpdateAttrs(lr, beta1, beta2, epsilon, wd, rescaleGrad,
                clipGradient), weight, grad, mean, var);
            return;
        }
        using var scope = NDArray.Scope();
        var g = ClipForUpdate(grad * rescaleGrad + wd * weight, clipGradient);
        mean.Assign(beta1 * mean + (1 - beta1) * g);
        var.Assign(beta2 * var + (1 - beta2) * Square(g));
        weight.Assign(weight - lr * mean / (Sqrt(var) + epsilon));
    }

    private static NDArray ClipForUpdate(NDArray g, double clipGradient) =>
        clipGradient > 0 ? Clip(g, -clipGradient, clipGradient) : g;

    /// <summary>
    /// Whether the fused operator takes these arrays: float32, dense (it writes the weight and state in place), and
    /// a kernel on their device. Anything else runs the same formula with array arithmetic.
    /// </summary>
    private static bool CanFuse(Ops.OpDef op, NDArray weight, NDArray grad, NDArray[] state) =>
        weight.DType == DType.Float32 && weight.IsContiguous && grad.IsContiguous && state.All(s => s.IsContiguous) &&
        op.DeviceKinds.Contains(weight.Device.Kind);

    private static void CheckUpdate(string op, NDArray weight, NDArray grad, (string Name, NDArray Array)[] state,
        double lr, double wd, double rescaleGrad)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(grad);
        weight.ThrowIfDisposed();
        grad.ThrowIfDisposed();
        foreach (var (name, s) in state)
        {
            if (s is null) throw new ArgumentNullException(name, $"{op}: the {name} state is null.");
            s.ThrowIfDisposed();
        }
        if (Autograd.IsRecording && weight.Node is not null)
            throw new InvalidOperationException(
                $"{op}: the weight is in a computational graph and Autograd.Record() is on; update weights outside " +
                "the record section, after Backward().");
        foreach (var (name, a) in state.Prepend(("grad", grad)))
        {
            if (a.Shape != weight.Shape)
                throw new ArgumentException(
                    $"{op}: {name} has shape {a.Shape} but the weight has shape {weight.Shape}; they must match.");
            if (a.DType != weight.DType)
                throw new ArgumentException(
                    $"{op}: {name} is {a.DType.Name()} but the weight is {weight.DType.Name()}; convert with AsType.");
            if (a.Device != weight.Device)
                throw new ArgumentException(
                    $"{op}: {name} is on {a.Device} but the weight on {weight.Device}; move it with CopyTo.");
        }
        if (weight.DType is not (DType.Float32 or DType.Float64 or DType.Float16))
            throw new ArgumentException(
                $"{op}: the weight is {weight.DType.Name()}; optimizer updates need a floating-point weight.");
        if (!double.IsFinite(lr) || !double.IsFinite(wd) || !double.IsFinite(rescaleGrad))
            throw new ArgumentOutOfRangeException(nameof(lr),
                $"{op}: lr, wd and rescaleGrad must be finite, got lr {lr}, wd {wd}, rescaleGrad {rescaleGrad}.");
    }
}
