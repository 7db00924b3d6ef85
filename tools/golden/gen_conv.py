"""Golden data for the convolution kernels: torch.nn.functional.conv2d / conv1d forward, and the gradients of
sum(y * dy) with respect to x, w and b (so dx, dw, db are the backward passes for an upstream gradient dy).

Writes Engine.Tests/Golden/conv/<case>.npz with x, w, [b], y, dy, dx, dw, [db] (float32) and the attributes
op, stride, padding, dilation, groups, bias. Run: /usr/bin/python3 tools/golden/gen_conv.py
"""
import torch
import torch.nn.functional as F

from common import generator, save_case

# name: (op, x shape, w shape, stride, padding, dilation, groups, bias)
CASES = {
    "lenet_conv1": ("conv2d", (2, 1, 28, 28), (6, 1, 5, 5), (1, 1), (0, 0), (1, 1), 1, True),
    "lenet_conv2": ("conv2d", (2, 6, 12, 12), (16, 6, 5, 5), (1, 1), (0, 0), (1, 1), 1, True),
    "resnet_3x3_pad1": ("conv2d", (2, 8, 8, 8), (8, 8, 3, 3), (1, 1), (1, 1), (1, 1), 1, False),
    "stride2_pad1": ("conv2d", (2, 3, 9, 7), (4, 3, 3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    "dilation2_rect": ("conv2d", (1, 2, 10, 9), (3, 2, 3, 2), (1, 2), (2, 1), (2, 2), 1, True),
    "groups2": ("conv2d", (2, 4, 7, 7), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 2, True),
    "depthwise": ("conv2d", (2, 4, 6, 6), (8, 1, 3, 3), (1, 1), (1, 1), (1, 1), 4, True),
    "pointwise": ("conv2d", (2, 5, 4, 6), (3, 5, 1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    "conv1d": ("conv1d", (2, 3, 20), (4, 3, 3), (2,), (1,), (2,), 1, True),
}


def main():
    gen = generator(3)
    for name, (op, xs, ws, stride, padding, dilation, groups, has_bias) in CASES.items():
        x = torch.randn(xs, generator=gen).requires_grad_()
        w = (torch.randn(ws, generator=gen) * 0.5).requires_grad_()
        b = torch.randn(ws[0], generator=gen).requires_grad_() if has_bias else None
        conv = F.conv2d if op == "conv2d" else F.conv1d
        y = conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        dy = torch.randn(y.shape, generator=gen)
        y.backward(dy)
        arrays = dict(x=x, w=w, y=y, dy=dy, dx=x.grad, dw=w.grad)
        if has_bias:
            arrays.update(b=b, db=b.grad)
        attrs = dict(op=op, stride=list(stride), padding=list(padding), dilation=list(dilation), groups=groups,
                     bias=has_bias)
        save_case("conv", name, attrs, **arrays)


if __name__ == "__main__":
    main()
