"""Golden data for the layout kernels (CpuLayout): permute, broadcast, cat, split, slicing, index_select,
one_hot and pad, with gradients for index_select and pad.

Run: /usr/bin/python3 tools/golden/gen_layout.py   (writes Engine.Tests/Golden/layout/*.npz)
Each case's attrs carry "op" (which kernel the test calls) and the arguments in the engine's terms.
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import generator, save_case

FAMILY = "layout"


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=torch.float32)


def permute(name, shape, perm, seed):
    g = generator(seed)
    x = randn(g, *shape)
    save_case(FAMILY, name, {"op": "permute", "perm": list(perm)}, x=x, y=x.permute(*perm).contiguous())


def expand():
    g = generator(3)
    x = randn(g, 3, 1, 5)
    save_case(FAMILY, "expand", {"op": "expand"}, x=x, y=x.expand(2, 3, 4, 5).contiguous())


def cat():
    g = generator(4)
    a, b, c = randn(g, 2, 3, 4), randn(g, 2, 1, 4), randn(g, 2, 5, 4)
    save_case(FAMILY, "cat", {"op": "cat", "axis": 1}, x0=a, x1=b, x2=c, y=torch.cat([a, b, c], dim=1))


def split():
    g = generator(5)
    x = randn(g, 6, 7)
    sizes = [2, 4, 1]
    ys = torch.split(x, sizes, dim=1)
    save_case(FAMILY, "split", {"op": "split", "axis": 1, "sizes": sizes}, x=x,
              **{f"y{i}": y.contiguous() for i, y in enumerate(ys)})


def slicing(name, shape, begin, end, step, seed):
    g = generator(seed)
    x = randn(g, *shape).numpy()
    index = tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))
    y = np.ascontiguousarray(x[index])
    save_case(FAMILY, name, {"op": "slice", "begin": begin, "end": end, "step": step}, x=x, y=y)


def narrow():
    g = generator(7)
    x = randn(g, 3, 6, 2)
    y = torch.narrow(x, 1, 2, 3).contiguous()
    save_case(FAMILY, "narrow", {"op": "slice", "begin": [None, 2], "end": [None, 5], "step": [None, None]},
              x=x, y=y)


def index_select(name, shape, axis, indices, seed):
    g = generator(seed)
    x = randn(g, *shape).requires_grad_()
    idx = torch.tensor(indices, dtype=torch.int64)
    y = x.index_select(axis, idx)
    dy = randn(g, *y.shape)
    y.backward(dy)
    save_case(FAMILY, name, {"op": "take", "axis": axis}, x=x, indices=idx, y=y, dy=dy, dx=x.grad)


def one_hot():
    idx = torch.tensor([[0, 3, 1], [4, 2, 2]], dtype=torch.int64)
    y = F.one_hot(idx, num_classes=5)
    save_case(FAMILY, "one_hot", {"op": "one_hot", "depth": 5}, indices=idx, y=y)


def pad(name, shape, torch_pad, mode, value, seed):
    g = generator(seed)
    x = randn(g, *shape).requires_grad_()
    if mode == "constant":
        y = F.pad(x, torch_pad, mode="constant", value=value)
    else:
        y = F.pad(x, torch_pad, mode=mode)
    dy = randn(g, *y.shape)
    y.backward(dy)
    # torch lists (before, after) pairs from the last axis backwards; the engine wants per-axis lists.
    rank = len(shape)
    before, after = [0] * rank, [0] * rank
    for k in range(len(torch_pad) // 2):
        before[rank - 1 - k] = torch_pad[2 * k]
        after[rank - 1 - k] = torch_pad[2 * k + 1]
    engine_mode = {"constant": "Constant", "replicate": "Edge", "reflect": "Reflect"}[mode]
    save_case(FAMILY, name, {"op": "pad", "mode": engine_mode, "before": before, "after": after, "value": value},
              x=x, y=y, dy=dy, dx=x.grad)


def main():
    permute("permute", (2, 3, 4, 5), (0, 3, 1, 2), 1)
    permute("transpose", (3, 33, 40), (0, 2, 1), 2)
    expand()
    cat()
    split()
    slicing("slice_steps", (5, 6, 7), [4, None, -2], [0, None, None], [-2, 3, None], 6)
    narrow()
    index_select("embedding", (6, 4), 0, [5, 0, 2, 2, 3], 8)
    index_select("index_select_axis1", (2, 5, 3), 1, [4, 4, 0, 1], 9)
    one_hot()
    pad("pad_constant", (2, 3, 4, 5), (1, 2, 0, 3), "constant", 0.5, 10)
    pad("pad_replicate", (1, 2, 4, 5), (2, 1, 3, 2), "replicate", 0.0, 11)
    pad("pad_reflect", (1, 2, 4, 5), (3, 1, 2, 3), "reflect", 0.0, 12)
    # nn.ReflectionPad2d's shapes: (left, right, top, bottom) on NCHW.
    pad("reflection_pad2d", (2, 3, 5, 6), (2, 1, 1, 3), "reflect", 0.0, 13)


if __name__ == "__main__":
    main()
