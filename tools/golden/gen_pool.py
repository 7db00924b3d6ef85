"""Golden data for the pooling kernels: torch.nn.functional.max_pool2d / avg_pool2d, forward and input gradient.

Writes Engine.Tests/Golden/pool/<case>.npz with x, dy (random output gradient), y and dx (= d(sum(y * dy))/dx),
all float32, and attrs: mode, kernel, stride, pad, ceil_mode (MXNet's 'full' convention), count_include_pad,
global. Max-pool inputs are a random permutation of distinct values, so no window holds a tie.
The 1-D and 3-D poolings (max_pool1d/3d, avg_pool1d/3d, global) go to Engine.Tests/Golden/pool_nd with the same
arrays and attributes. Run: /usr/bin/python3 tools/golden/gen_pool.py
"""
import math

import torch
import torch.nn.functional as F

from common import generator, save_case

FAMILY = "pool"


def mxnet_out(size, k, s, p, full):
    # MXNet's output size; the cases below are chosen so that PyTorch's ceil_mode agrees with it.
    span = size + 2 * p - k
    return (math.ceil(span / s) if full else span // s) + 1


def distinct(shape, g):
    n = math.prod(shape)
    return (torch.randperm(n, generator=g).to(torch.float32) / n * 4 - 2).reshape(shape)


def case(name, mode, shape, kernel, stride, pad=(0, 0), ceil_mode=False, count_include_pad=True, is_global=False,
         seed=0):
    g = generator(seed)
    x = distinct(shape, g) if mode == "max" else torch.rand(shape, generator=g) * 4 - 2
    x.requires_grad_(True)
    if mode == "max":
        y = F.max_pool2d(x, kernel, stride, pad, ceil_mode=ceil_mode)
    else:
        y = F.avg_pool2d(x, kernel, stride, pad, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    expected = (shape[0], shape[1]) + tuple(
        mxnet_out(shape[2 + i], kernel[i], stride[i], pad[i], ceil_mode) for i in range(2))
    assert tuple(y.shape) == expected, (name, tuple(y.shape), expected)
    dy = torch.rand(y.shape, generator=g) * 2 - 1
    y.backward(dy)
    attrs = {"mode": mode, "kernel": list(kernel), "stride": list(stride), "pad": list(pad),
             "ceil_mode": ceil_mode, "count_include_pad": count_include_pad, "global": is_global}
    save_case(FAMILY, name, attrs, x=x, dy=dy, y=y, dx=x.grad)


def main():
    case("max_2x2_s2", "max", (2, 3, 8, 10), (2, 2), (2, 2), seed=1)
    case("max_3x3_s2_p1", "max", (1, 2, 9, 7), (3, 3), (2, 2), (1, 1), seed=2)
    case("max_3x3_s2_full", "max", (1, 2, 8, 6), (3, 3), (2, 2), ceil_mode=True, seed=3)
    case("max_2x3_s1x2", "max", (2, 1, 5, 9), (2, 3), (1, 2), (1, 1), seed=4)
    case("max_global", "max", (2, 3, 5, 6), (5, 6), (1, 1), is_global=True, seed=5)
    case("avg_2x2_s2", "avg", (2, 3, 6, 6), (2, 2), (2, 2), seed=6)
    case("avg_3x3_s1_p1_incl", "avg", (1, 2, 5, 7), (3, 3), (1, 1), (1, 1), seed=7)
    case("avg_3x3_s2_p1_excl", "avg", (1, 2, 7, 8), (3, 3), (2, 2), (1, 1), count_include_pad=False, seed=8)
    case("avg_3x3_s2_p1_full_incl", "avg", (1, 2, 8, 8), (3, 3), (2, 2), (1, 1), ceil_mode=True, seed=9)
    case("avg_3x3_s2_p1_full_excl", "avg", (1, 2, 8, 6), (3, 3), (2, 2), (1, 1), ceil_mode=True,
         count_include_pad=False, seed=10)
    case("avg_global", "avg", (2, 4, 7, 7), (7, 7), (1, 1), is_global=True, seed=11)


def case_nd(name, mode, shape, kernel, stride, pad, ceil_mode=False, count_include_pad=True, is_global=False,
            seed=0):
    g = generator(seed)
    x = distinct(shape, g) if mode == "max" else torch.rand(shape, generator=g) * 4 - 2
    x.requires_grad_(True)
    rank = len(shape) - 2
    if mode == "max":
        y = getattr(F, f"max_pool{rank}d")(x, kernel, stride, pad, ceil_mode=ceil_mode)
    else:
        y = getattr(F, f"avg_pool{rank}d")(x, kernel, stride, pad, ceil_mode=ceil_mode,
                                            count_include_pad=count_include_pad)
    expected = (shape[0], shape[1]) + tuple(
        mxnet_out(shape[2 + i], kernel[i], stride[i], pad[i], ceil_mode) for i in range(rank))
    assert tuple(y.shape) == expected, (name, tuple(y.shape), expected)
    dy = torch.rand(y.shape, generator=g) * 2 - 1
    y.backward(dy)
    attrs = {"mode": mode, "kernel": list(kernel), "stride": list(stride), "pad": list(pad),
             "ceil_mode": ceil_mode, "count_include_pad": count_include_pad, "global": is_global}
    save_case("pool_nd", name, attrs, x=x, dy=dy, y=y, dx=x.grad)


def main_nd():
    case_nd("max1d_k3_s2_p1", "max", (2, 3, 11), (3,), (2,), (1,), seed=21)
    case_nd("max1d_k2_full", "max", (1, 2, 9), (2,), (2,), (0,), ceil_mode=True, seed=22)
    case_nd("avg1d_k3_s2_p1_excl", "avg", (2, 2, 10), (3,), (2,), (1,), count_include_pad=False, seed=23)
    case_nd("avg1d_k3_s2_p1_full_incl", "avg", (1, 3, 8), (3,), (2,), (1,), ceil_mode=True, seed=24)
    case_nd("max1d_global", "max", (2, 3, 7), (7,), (1,), (0,), is_global=True, seed=25)
    case_nd("avg1d_global", "avg", (2, 3, 7), (7,), (1,), (0,), is_global=True, seed=26)
    case_nd("max3d_2_s2", "max", (2, 2, 4, 6, 5), (2, 2, 2), (2, 2, 2), (0, 0, 0), seed=27)
    case_nd("max3d_3_s2_p1_full", "max", (1, 2, 5, 6, 7), (3, 3, 3), (2, 2, 2), (1, 1, 1), ceil_mode=True,
            seed=28)
    case_nd("avg3d_3_s2_p1_incl", "avg", (1, 2, 5, 6, 7), (3, 3, 3), (2, 2, 2), (1, 1, 1), seed=29)
    case_nd("avg3d_rect_excl_full", "avg", (2, 1, 6, 5, 7), (2, 3, 3), (2, 1, 2), (1, 1, 0), ceil_mode=True,
            count_include_pad=False, seed=30)
    case_nd("max3d_global", "max", (2, 3, 3, 4, 2), (3, 4, 2), (1, 1, 1), (0, 0, 0), is_global=True, seed=31)
    case_nd("avg3d_global", "avg", (2, 3, 3, 4, 2), (3, 4, 2), (1, 1, 1), (0, 0, 0), is_global=True, seed=32)


if __name__ == "__main__":
    main()
    main_nd()
