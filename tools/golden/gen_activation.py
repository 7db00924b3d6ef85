"""Golden data for the LeakyReLU-family activations and Swish, with gradients.

Writes Engine.Tests/Golden/activation/*.npz: x, y = f(x), a head gradient dy and dx (and dalpha for PReLU), in
float32 unless the case name ends in _f64:
  elu_*      F.elu(x, alpha)            (MXNet LeakyReLU act_type='elu', slope = alpha)
  selu       F.selu
  gelu*      F.gelu, erf form           (MXNet 1.9 act_type='gelu'); gelu_f64 in float64, wide range
  silu       F.silu = swish with beta 1; swish_beta2 is x * sigmoid(2x)
  prelu_*    F.prelu with one slope per channel or one for all
Run: python3 tools/golden/gen_activation.py (needs PyTorch)
"""
import torch
import torch.nn.functional as F

from common import generator, save_case

FAMILY = "activation"


def case(name, op, fn, shape, attrs=None, low=-4.0, high=4.0, dtype=torch.float32, seed=0, alpha=None):
    g = generator(seed)
    x = (torch.rand(*shape, generator=g, dtype=torch.float64) * (high - low) + low).to(dtype).requires_grad_()
    arrays = {}
    if alpha is not None:
        a = torch.tensor(alpha, dtype=dtype).requires_grad_()
        y = fn(x, a)
        arrays["alpha"] = a
    else:
        y = fn(x)
    dy = torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
    y.backward(dy)
    if alpha is not None:
        arrays["dalpha"] = a.grad
    save_case(FAMILY, name, dict({"op": op}, **(attrs or {})), x=x, y=y, dy=dy, dx=x.grad, **arrays)


def main():
    case("elu_alpha1", "elu", lambda x: F.elu(x, 1.0), (4, 17), {"alpha": 1.0}, seed=1)
    case("elu_alpha0.5", "elu", lambda x: F.elu(x, 0.5), (3, 11), {"alpha": 0.5}, seed=2)
    case("selu", "selu", F.selu, (4, 17), seed=3)
    case("gelu", "gelu", F.gelu, (5, 19), seed=4)
    case("gelu_f64", "gelu", F.gelu, (3, 40), low=-12.0, high=6.0, dtype=torch.float64, seed=5)
    case("silu", "swish", F.silu, (4, 17), {"beta": 1.0}, seed=6)
    case("swish_beta2", "swish", lambda x: x * torch.sigmoid(2.0 * x), (3, 9), {"beta": 2.0}, seed=7)
    case("prelu_channels", "prelu", F.prelu, (2, 3, 4, 5), alpha=[0.25, -0.1, 0.6], seed=8)
    case("prelu_single", "prelu", F.prelu, (3, 7), alpha=[0.3], seed=9)


if __name__ == "__main__":
    main()
