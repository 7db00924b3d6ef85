#!/usr/bin/python3
"""Exports the hybridize suite's MLP 784-256-10 and LeNet with torch.onnx, for onnxruntime_baseline.js.

    /usr/bin/python3 tools/bench/export_onnx.py [--out DIR]     (default: out/onnx under the repository root)

Writes DIR/mlp.onnx (input (N, 784)) and DIR/lenet.onnx (input (N, 1, 28, 28)), both with a dynamic batch axis, so
one file serves batch 1 and batch 256. The models are the ones torch_baseline.py times (same layers, random
weights); they are generated when the benchmark runs and never committed.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def models(torch):
    nn = torch.nn
    mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84),
                          nn.ReLU(), nn.Linear(84, 10))
    return {"mlp": (mlp, (1, 784)), "lenet": (lenet, (1, 1, 28, 28))}


def main(argv):
    p = argparse.ArgumentParser(description="Export the MLP and LeNet to ONNX for onnxruntime_baseline.js.")
    p.add_argument("--out", default=os.path.join(HERE, "..", "..", "out", "onnx"))
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError as e:
        sys.exit(f"export_onnx.py: cannot import torch ({e}); run with /usr/bin/python3 (Debian's python3-torch).")
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)
    for name, (model, shape) in models(torch).items():
        model.eval()
        path = os.path.join(args.out, f"{name}.onnx")
        torch.onnx.export(model, torch.randn(*shape), path, input_names=["data"], output_names=["output"],
                          dynamic_axes={"data": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
        print(f"export_onnx.py: wrote {os.path.abspath(path)}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
