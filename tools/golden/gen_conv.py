"""Golden data for the convolution kernels: torch.nn.functional.conv2d / conv1d forward, and the gradients of
sum(y * dy) with respect to x, w and b (so dx, dw, db are the backward passes for an upstream gradient dy).

Writes Engine.Tests/Golden/conv/<case>.npz with x, w, [b], y, dy, dx, dw, [db] (float32) and the attributes
op, stride, padding, dilation, groups, bias. The same for conv3d and the transposed convolutions
(conv_transpose1d/2d/3d, whose weight is (in, out / groups, k...) as in MXNet's Deconvolution, with
output_padding) in Engine.Tests/Golden/conv_nd. Run: /usr/bin/python3 tools/golden/gen_conv.py
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


# name: (op, x shape, w shape, stride, padding, output_padding, dilation, groups, bias)
ND_CASES = {
    "conv3d_k3_p1": ("conv3d", (2, 3, 5, 6, 4), (4, 3, 3, 3, 3), (1, 1, 1), (1, 1, 1), None, (1, 1, 1), 1, True),
    "conv3d_s2_dil_groups": ("conv3d", (1, 4, 7, 6, 8), (6, 2, 2, 3, 2), (2, 1, 2), (0, 1, 1), None, (1, 2, 1), 2,
                             False),
    "conv3d_pointwise": ("conv3d", (2, 5, 3, 2, 4), (3, 5, 1, 1, 1), (1, 1, 1), (0, 0, 0), None, (1, 1, 1), 1, True),
    "tconv1d_s2_outpad": ("conv_transpose1d", (2, 4, 9), (4, 3, 3), (2,), (1,), (1,), (1,), 1, True),
    "tconv1d_dil_groups": ("conv_transpose1d", (1, 6, 7), (6, 2, 4), (3,), (2,), (2,), (2,), 3, False),
    "tconv2d_dcgan": ("conv_transpose2d", (2, 8, 4, 4), (8, 4, 4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),
    "tconv2d_first": ("conv_transpose2d", (2, 10, 1, 1), (10, 6, 4, 4), (1, 1), (0, 0), (0, 0), (1, 1), 1, False),
    "tconv2d_rect_outpad": ("conv_transpose2d", (1, 3, 5, 4), (3, 2, 3, 2), (2, 3), (1, 0), (1, 2), (1, 1), 1, True),
    "tconv2d_groups_dil": ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), (2, 2), (2, 1), (1, 0), (2, 1), 2, True),
    "tconv2d_depthwise": ("conv_transpose2d", (1, 4, 6, 5), (4, 1, 3, 3), (1, 1), (1, 1), (0, 0), (1, 1), 4, True),
    "tconv3d_s2_outpad": ("conv_transpose3d", (1, 3, 3, 4, 2), (3, 2, 3, 2, 3), (2, 2, 1), (1, 0, 1), (1, 1, 0),
                          (1, 1, 1), 1, True),
    "tconv3d_groups_dil": ("conv_transpose3d", (2, 4, 2, 3, 3), (4, 1, 2, 2, 2), (1, 2, 2), (0, 1, 0), (0, 0, 1),
                           (2, 1, 1), 2, False),
}


def main_nd():
    gen = generator(4)
    for name, (op, xs, ws, stride, padding, out_pad, dilation, groups, has_bias) in ND_CASES.items():
        x = torch.randn(xs, generator=gen).requires_grad_()
        w = (torch.randn(ws, generator=gen) * 0.5).requires_grad_()
        out_channels = ws[1] * groups if op.startswith("conv_transpose") else ws[0]
        b = torch.randn(out_channels, generator=gen).requires_grad_() if has_bias else None
        fn = getattr(F, op)
        if out_pad is None:
            y = fn(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        else:
            y = fn(x, w, b, stride=stride, padding=padding, output_padding=out_pad, groups=groups,
                   dilation=dilation)
        dy = torch.randn(y.shape, generator=gen)
        y.backward(dy)
        arrays = dict(x=x, w=w, y=y, dy=dy, dx=x.grad, dw=w.grad)
        if has_bias:
            arrays.update(b=b, db=b.grad)
        attrs = dict(op=op, stride=list(stride), padding=list(padding), dilation=list(dilation), groups=groups,
                     bias=has_bias, output_padding=list(out_pad or [0] * len(stride)))
        save_case("conv_nd", name, attrs, **arrays)


if __name__ == "__main__":
    main()
    main_nd()
