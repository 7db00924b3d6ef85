"""Golden data for the reductions: torch.sum/mean/amax/amin/prod/norm/argmax/argmin over a few axis sets.

Writes Engine.Tests/Golden/reduce/*.npz with arrays x (the input) and y (the result, with the keepdim shape where
asked) and attrs {op, axes or axis, keepdims, permute}. 'permute', when present, means the kernel reads x through
a permuted (non-contiguous) view x.permute(permute), as the C# test does with strides.
Run: /usr/bin/python3 tools/golden/gen_reduce.py
"""
import torch

from common import generator, save_case

FAMILY = "reduce"


def case(name, op, x, axes=None, keepdims=False, permute=None):
    v = x.permute(*permute) if permute else x
    dims = tuple(axes) if axes else tuple(range(v.dim()))
    if op == "sum":
        y = torch.sum(v, dim=dims, keepdim=keepdims)
    elif op == "mean":
        y = torch.mean(v, dim=dims, keepdim=keepdims)
    elif op == "max":
        y = torch.amax(v, dim=dims, keepdim=keepdims)
    elif op == "min":
        y = torch.amin(v, dim=dims, keepdim=keepdims)
    elif op == "prod":
        # torch.prod takes one dim at a time; reduce the highest axis first so the others keep their numbers.
        y = v
        for d in sorted(dims, reverse=True):
            y = torch.prod(y, dim=d, keepdim=True)
        if not keepdims:
            y = y.reshape([s for i, s in enumerate(v.shape) if i not in dims])
    elif op in ("norm", "norm_l1"):
        y = torch.norm(v, p=2 if op == "norm" else 1, dim=dims, keepdim=keepdims)
    else:
        raise ValueError(op)
    # save_case stores a 0-d result as shape (1,), so the attributes carry the true shape.
    attrs = {"op": op, "axes": list(axes or []), "keepdims": keepdims, "shape": list(y.shape)}
    if permute:
        attrs["permute"] = list(permute)
    save_case(FAMILY, name, attrs, x=x, y=y)


def arg_case(name, is_max, x, axis):
    y = torch.argmax(x, dim=axis) if is_max else torch.argmin(x, dim=axis)
    save_case(FAMILY, name, {"op": "argmax" if is_max else "argmin", "axis": axis}, x=x, y=y)


def main():
    g = generator(7)

    def randn(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=g, dtype=dtype)

    case("sum_axis1", "sum", randn(3, 5, 4), axes=[1])
    case("sum_all", "sum", randn(4, 33))
    case("sum_float64_axes02", "sum", randn(2, 3, 4, dtype=torch.float64), axes=[0, 2])
    case("sum_permuted_axis0", "sum", randn(4, 3, 5), axes=[0], permute=[2, 0, 1])
    case("mean_axes02_keepdims", "mean", randn(3, 4, 5), axes=[0, 2], keepdims=True)
    case("max_last", "max", randn(3, 17), axes=[-1])
    case("min_axes01", "min", randn(2, 3, 4), axes=[0, 1])
    sign = torch.where(torch.rand(5, 3, generator=g) < 0.3, -1.0, 1.0)
    case("prod_axis0", "prod", sign * (0.8 + 0.4 * torch.rand(5, 3, generator=g)), axes=[0])
    case("norm_axis1", "norm", randn(4, 9), axes=[1])
    case("norm_l1_all_keepdims", "norm_l1", randn(3, 4), keepdims=True)

    ties = torch.randint(-2, 3, (4, 6), generator=g).float()
    ties[2, 3] = float("nan")
    ties[2, 5] = float("nan")
    arg_case("argmax_ties_nan_axis1", True, ties, 1)
    arg_case("argmin_axis0", False, randn(5, 3), 0)
    arg_case("argmin_ties_axis0", False, torch.randint(0, 3, (6, 4), generator=g).double(), 0)


if __name__ == "__main__":
    main()
