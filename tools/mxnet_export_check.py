#!/usr/bin/env python3
"""Independent check of an MXNet 1.x export: PREFIX-symbol.json and PREFIX-NNNN.params.

Uses only the standard library and NumPy. Checks the symbol JSON layout MXNet 1.x writes (nodes in topological
order with string attributes, arg_nodes listing every variable, node_row_ptr as a prefix sum of each node's
outputs, heads, attrs.mxnet_version below 20000) and the .params binary format (magic 0x112, V2 NDArray
records), and that every variable other than the inputs has a value under arg:NAME or aux:NAME (aux exactly for
BatchNorm's moving statistics) whose shape matches the variable's __shape__ hint.

usage: mxnet_export_check.py SYMBOL_JSON PARAMS [--input data ...] [--dump OUT.npz]
Prints one line per finding; exits 1 when anything is wrong, 0 with "ok" otherwise.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8, 6: np.int64,
          7: np.bool_}
MULTI_OUTPUT = {"BatchNorm": 3, "Dropout": 2, "LayerNorm": 3, "InstanceNorm": 3, "LRN": 2}
MUTATED = {"BatchNorm": (3, 4)}


def outputs(node):
    """Outputs MXNet counts for a node: RNN has 1, or with state_outputs 2 (3 for LSTM)."""
    if node["op"] == "RNN":
        attrs = node.get("attrs", {})
        if attrs.get("state_outputs", "False") not in ("True", "true", "1"):
            return 1
        return 3 if attrs.get("mode") == "lstm" else 2
    return MULTI_OUTPUT.get(node["op"], 1)


def read_params(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(data):
            raise ValueError("truncated at byte %d" % pos)
        values = struct.unpack_from(fmt, data, pos)
        pos += size
        return values

    magic, _reserved = take("<QQ")
    if magic != 0x112:
        raise ValueError("magic is 0x%x, not 0x112" % magic)
    (count,) = take("<Q")
    arrays = []
    for _ in range(count):
        (record_magic,) = take("<I")
        if record_magic != 0xF993FAC9:
            raise ValueError("array record magic 0x%x is not V2 (0xF993FAC9)" % record_magic)
        (stype,) = take("<i")
        if stype != 0:
            raise ValueError("storage type %d is not dense" % stype)
        (ndim,) = take("<i")
        shape = take("<%dq" % ndim)
        take("<ii")  # device type and id
        (type_flag,) = take("<i")
        dtype = np.dtype(DTYPES[type_flag])
        size = int(np.prod(shape)) * dtype.itemsize
        if pos + size > len(data):
            raise ValueError("array data truncated")
        arrays.append(np.frombuffer(data[pos:pos + size], dtype=dtype).reshape(shape))
        pos += size
    (names,) = take("<Q")
    if names != count:
        raise ValueError("%d names for %d arrays" % (names, count))
    keys = []
    for _ in range(names):
        (length,) = take("<Q")
        keys.append(data[pos:pos + length].decode("utf-8"))
        pos += length
    if pos != len(data):
        raise ValueError("%d bytes after the names" % (len(data) - pos))
    return dict(zip(keys, arrays))


def check(symbol_path, params_path, inputs):
    problems = []
    with open(symbol_path) as f:
        sym = json.load(f)
    for key in ("nodes", "arg_nodes", "node_row_ptr", "heads", "attrs"):
        if key not in sym:
            problems.append("symbol: missing top-level key %s" % key)
    if problems:
        return problems
    nodes = sym["nodes"]
    version = sym["attrs"].get("mxnet_version")
    if not (isinstance(version, list) and version[0] == "int" and 10000 <= version[1] < 20000):
        problems.append("symbol: attrs.mxnet_version %r is not [\"int\", 1xxxx]" % (version,))
    variables = [i for i, n in enumerate(nodes) if n["op"] == "null"]
    if sym["arg_nodes"] != variables:
        problems.append("symbol: arg_nodes %r should list every variable %r" % (sym["arg_nodes"], variables))
    row, rows = 0, [0]
    aux = set()
    for i, n in enumerate(nodes):
        for key in ("op", "name", "inputs"):
            if key not in n:
                problems.append("node %d: missing %s" % (i, key))
        for k, v in n.get("attrs", {}).items():
            if not isinstance(v, str):
                problems.append("node %s: attribute %s is not a string" % (n["name"], k))
        if "attr" in n or "param" in n:
            problems.append("node %s: uses a pre-1.0 attribute key" % n["name"])
        for e in n["inputs"]:
            if len(e) != 3 or not 0 <= e[0] < i:
                problems.append("node %s: input %r is not [earlier node, output, version]" % (n["name"], e))
        for k in MUTATED.get(n["op"], ()):
            if k < len(n["inputs"]):
                aux.add(nodes[n["inputs"][k][0]]["name"])
        row += outputs(n)
        rows.append(row)
    if sym["node_row_ptr"] != rows:
        problems.append("symbol: node_row_ptr %r should be %r" % (sym["node_row_ptr"], rows))
    for h in sym["heads"]:
        if len(h) != 3 or not 0 <= h[0] < len(nodes):
            problems.append("symbol: head %r is not [node, output, version]" % (h,))
    names = [n["name"] for n in nodes]
    if len(set(names)) != len(names):
        problems.append("symbol: node names are not unique")

    try:
        params = read_params(params_path)
    except (ValueError, KeyError, struct.error) as e:
        return problems + ["params: %s" % e]
    expected = {}
    for i in variables:
        n = nodes[i]
        if n["name"] in inputs:
            continue
        expected[("aux:" if n["name"] in aux else "arg:") + n["name"]] = n
    for key in expected:
        if key not in params:
            problems.append("params: no value for %s" % key)
    for key, value in params.items():
        if key not in expected:
            problems.append("params: %s is not a variable of the symbol (or has the wrong arg/aux prefix)" % key)
            continue
        hint = expected[key].get("attrs", {}).get("__shape__")
        if hint is not None:
            dims = tuple(int(d) for d in hint.strip("()").split(",") if d.strip())
            if len(dims) != value.ndim or any(d not in (0, s) for d, s in zip(dims, value.shape)):
                problems.append("params: %s has shape %r but __shape__ is %s" % (key, value.shape, hint))
    return problems


def main(argv):
    args, inputs, dump = [], ["data"], None
    i = 0
    while i < len(argv):
        if argv[i] == "--input":
            inputs.append(argv[i + 1])
            i += 2
        elif argv[i] == "--dump":
            dump = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-3])
        return 2
    problems = check(args[0], args[1], set(inputs))
    for p in problems:
        print(p)
    if dump and not problems:
        np.savez(dump, **{k.replace(":", "_"): v for k, v in read_params(args[1]).items()})
    if not problems:
        print("ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
