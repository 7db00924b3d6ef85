"""Shared helpers for the golden-data generators.

Each generator writes Engine.Tests/Golden/<family>/<case>.npz: the named input and output arrays of one case,
plus '__attrs__', the case's attributes as UTF-8 JSON bytes. Run with Debian's PyTorch: /usr/bin/python3 gen_X.py
"""
import json
import os

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "Engine.Tests", "Golden"))


def save_case(family, name, attrs=None, **arrays):
    folder = os.path.join(ROOT, family)
    os.makedirs(folder, exist_ok=True)
    out = {}
    for key, value in arrays.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        out[key] = np.ascontiguousarray(value)
    out["__attrs__"] = np.frombuffer(json.dumps(attrs or {}, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    np.savez_compressed(os.path.join(folder, name + ".npz"), **out)


def generator(seed):
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
