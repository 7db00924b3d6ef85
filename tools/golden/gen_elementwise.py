"""Golden data for the elementwise operators: PyTorch float32 results on small broadcast shapes."""
import torch

from common import generator, save_case

g = generator(1)

UNARY = {
    "negative": torch.neg, "abs": torch.abs, "square": torch.square, "relu": torch.relu, "exp": torch.exp,
    "log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal,
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softrelu": torch.nn.functional.softplus,
    "softsign": torch.nn.functional.softsign, "sign": torch.sign,
}
BINARY = {
    "add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.div, "power": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum, "greater": lambda a, b: (a > b).float(),
    "lesser_equal": lambda a, b: (a <= b).float(),
}
POSITIVE = {"log", "sqrt", "rsqrt", "power"}

for name, fn in UNARY.items():
    x = torch.rand(3, 21, generator=g) * 6 - 3
    if name in POSITIVE:
        x = x.abs() + 0.1
    save_case("elementwise", f"unary_{name}", {"op": name}, in0=x, out=fn(x))

for name, fn in BINARY.items():
    a = torch.rand(4, 1, 19, generator=g) * 4 - 2
    b = torch.rand(3, 19, generator=g) * 4 - 2
    if name in POSITIVE:
        a = a.abs() + 0.1
    save_case("elementwise", f"binary_{name}", {"op": name}, in0=a, in1=b, out=fn(a, b))
