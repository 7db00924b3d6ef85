"""Golden data for the normalization and softmax kernels (CpuBatchNorm, CpuSoftmax, CpuSoftmaxCrossEntropy).

Writes Engine.Tests/Golden/norm/*.npz with PyTorch's float32 results and autograd gradients:
  batchnorm_*      F.batch_norm, training (batch statistics, running stats updated in place) or eval
  softmax_*        F.softmax / F.log_softmax over one axis, optionally of x / temperature
  ce_*             F.cross_entropy(reduction='none') against int64 labels
  layernorm_*      F.layer_norm over the last axis (or another axis, moved last and back), with gradients
  instancenorm_*   F.instance_norm with per-channel gamma and beta, with gradients
  groupnorm_*      F.group_norm without affine, then MXNet 1.x's per-group gamma and beta, with gradients
PyTorch's momentum m is this engine's momentum 1 - m, and PyTorch updates running_var with the unbiased batch
variance (the kernels' UnbiasedRunningVar = true). Run: /usr/bin/python3 tools/golden/gen_norm.py
"""
import torch
import torch.nn.functional as F

from common import generator, save_case

FAMILY = "norm"


def randn(g, *shape, scale=1.0, shift=0.0):
    return torch.randn(*shape, generator=g, dtype=torch.float32) * scale + shift


def batchnorm(name, shape, training, eps=1e-5, momentum=0.1, shift=0.0, seed=0):
    g = generator(seed)
    c = shape[1]
    x = randn(g, *shape, scale=2.0, shift=shift).requires_grad_()
    gamma = randn(g, c, scale=0.5, shift=1.0).requires_grad_()
    beta = randn(g, c, scale=0.5).requires_grad_()
    running_mean = randn(g, c, scale=0.3)
    running_var = torch.rand(c, generator=g) + 0.5
    rm, rv = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
    dy = randn(g, *shape)
    y.backward(dy)
    save_case(FAMILY, name,
              {"training": training, "eps": eps, "momentum": 1.0 - momentum, "unbiased_running_var": True,
               "axis": 1},
              x=x, gamma=gamma, beta=beta, running_mean=running_mean, running_var=running_var, y=y, dy=dy,
              dx=x.grad, dgamma=gamma.grad, dbeta=beta.grad, running_mean_out=rm, running_var_out=rv)


def softmax(name, shape, axis, log, temperature=1.0, scale=1.0, seed=0):
    g = generator(seed)
    x = randn(g, *shape, scale=scale).requires_grad_()
    z = x / temperature
    y = F.log_softmax(z, dim=axis) if log else F.softmax(z, dim=axis)
    dy = randn(g, *shape)
    y.backward(dy)
    save_case(FAMILY, name, {"axis": axis, "log": log, "temperature": temperature}, x=x, y=y, dy=dy, dx=x.grad)


def cross_entropy(name, batch, classes, scale=1.0, seed=0):
    g = generator(seed)
    x = randn(g, batch, classes, scale=scale).requires_grad_()
    labels = torch.randint(0, classes, (batch,), generator=g, dtype=torch.int64)
    loss = F.cross_entropy(x, labels, reduction="none")
    dloss = torch.rand(batch, generator=g) + 0.5
    loss.backward(dloss)
    save_case(FAMILY, name, {}, logits=x, labels=labels, loss=loss, dloss=dloss, dx=x.grad)


def sample_norm(name, op, shape, eps, seed, axis=-1, groups=1, shift=0.0):
    """Layer, instance or group norm with autograd gradients; gamma and beta have the engine's shapes."""
    g = generator(seed)
    x = randn(g, *shape, scale=2.0, shift=shift).requires_grad_()
    if op == "layer_norm":
        n = shape[axis]
    elif op == "instance_norm":
        n = shape[1]
    else:
        n = groups
    gamma = randn(g, n, scale=0.5, shift=1.0).requires_grad_()
    beta = randn(g, n, scale=0.5).requires_grad_()
    if op == "layer_norm":
        moved = x.transpose(axis, -1)
        y = F.layer_norm(moved, (n,), gamma, beta, eps).transpose(axis, -1)
    elif op == "instance_norm":
        y = F.instance_norm(x, weight=gamma, bias=beta, eps=eps)
    else:
        # MXNet 1.x: one gamma and beta per group, applied to every channel of the group.
        per_channel = shape[1] // groups
        view = [1, shape[1]] + [1] * (len(shape) - 2)
        y = F.group_norm(x, groups, None, None, eps)
        y = y * gamma.repeat_interleave(per_channel).reshape(view) + beta.repeat_interleave(per_channel).reshape(view)
    dy = randn(g, *shape)
    y.backward(dy)
    save_case(FAMILY, name, {"op": op, "eps": eps, "axis": axis, "num_groups": groups},
              x=x, gamma=gamma, beta=beta, y=y, dy=dy, dx=x.grad, dgamma=gamma.grad, dbeta=beta.grad)


def main():
    batchnorm("batchnorm_train_nchw", (4, 3, 5, 6), training=True, seed=1)
    batchnorm("batchnorm_train_2d", (7, 5), training=True, seed=2)
    batchnorm("batchnorm_train_3d_eps", (2, 4, 9), training=True, eps=1e-3, momentum=0.3, seed=3)
    batchnorm("batchnorm_train_shifted", (3, 2, 17), training=True, shift=50.0, seed=4)
    batchnorm("batchnorm_eval_nchw", (2, 3, 4, 5), training=False, seed=5)
    softmax("softmax_last", (4, 10), axis=-1, log=False, seed=6)
    softmax("softmax_axis1", (2, 5, 3, 4), axis=1, log=False, seed=7)
    softmax("softmax_large_logits", (3, 12), axis=-1, log=False, scale=1000.0, seed=8)
    softmax("softmax_temperature", (5, 33), axis=-1, log=False, temperature=2.5, seed=9)
    softmax("log_softmax_last", (3, 17), axis=-1, log=True, seed=10)
    softmax("log_softmax_axis0", (6, 4), axis=0, log=True, seed=11)
    softmax("log_softmax_large_logits", (4, 9), axis=-1, log=True, scale=1000.0, seed=12)
    cross_entropy("ce_basic", 8, 10, seed=13)
    cross_entropy("ce_large_logits", 5, 7, scale=1000.0, seed=14)
    sample_norm("layernorm_last", "layer_norm", (4, 3, 10), 1e-5, seed=15)
    sample_norm("layernorm_axis1", "layer_norm", (2, 6, 5), 1e-3, seed=16, axis=1)
    sample_norm("layernorm_shifted", "layer_norm", (5, 33), 1e-5, seed=17, shift=100.0)
    sample_norm("instancenorm_nchw", "instance_norm", (2, 3, 4, 5), 1e-5, seed=18)
    sample_norm("instancenorm_ncw_eps", "instance_norm", (3, 4, 7), 1e-3, seed=19)
    sample_norm("groupnorm_g2", "group_norm", (2, 6, 3, 4), 1e-5, seed=20, groups=2)
    sample_norm("groupnorm_g1_ncw", "group_norm", (3, 4, 5), 1e-5, seed=21, groups=1)
    sample_norm("groupnorm_g4", "group_norm", (2, 4, 9), 1e-5, seed=22, groups=4)


if __name__ == "__main__":
    main()
