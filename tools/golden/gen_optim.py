"""Golden weight trajectories of torch.optim optimizers that MXNet's update rules match at a constant learning rate.

MXNet's momentum buffers hold -lr times PyTorch's, and Adam and RMSProp place epsilon slightly differently, so at a
constant learning rate the weights agree to float32 rounding: gradient elements are kept at least 0.1 in magnitude,
so the epsilon terms stay below about 1e-5 of the step.
AdamW is compared with wd = 0 only: MXNet scales the decoupled decay by the bias-corrected rate, PyTorch by lr.
Each case holds w0, grads (steps x shape) and weights (the weight after each step).
"""
import torch

from common import generator, save_case

STEPS = 5


def trajectory(name, make, attrs, seed):
    g = generator(seed)
    w0 = torch.randn(4, 5, generator=g)
    grads = torch.randn(STEPS, 4, 5, generator=g)
    grads = grads.sign() * (grads.abs() + 0.1)
    w = w0.clone().requires_grad_()
    opt = make([w])
    weights = []
    for k in range(STEPS):
        w.grad = grads[k].clone()
        opt.step()
        weights.append(w.detach().clone())
    save_case("optim", name, attrs, w0=w0, grads=grads, weights=torch.stack(weights))


trajectory("sgd_momentum_wd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
           {"lr": 0.1, "momentum": 0.9, "wd": 0.01}, 11)
trajectory("nag_momentum_wd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
           {"lr": 0.1, "momentum": 0.9, "wd": 0.01}, 12)
trajectory("adam_wd", lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
           {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "wd": 0.01}, 13)
trajectory("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
           {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "wd": 0.0}, 14)
trajectory("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01),
           {"lr": 0.01, "gamma1": 0.9, "epsilon": 1e-8, "wd": 0.01, "centered": False}, 15)
trajectory("rmsprop_centered", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01,
                                                            momentum=0.9, centered=True),
           {"lr": 0.01, "gamma1": 0.9, "gamma2": 0.9, "epsilon": 1e-8, "wd": 0.01, "centered": True}, 16)
