#!/usr/bin/python3
"""PyTorch peer of Engine.Bench: the same suites and cases, timed the same way, printed as the same JSON lines
with "peer": "torch".

    /usr/bin/python3 tools/bench/torch_baseline.py SUITE [--threads N] [--repeat R] [--budget SECONDS]
        [--filter TEXT] [--out FILE]
    /usr/bin/python3 tools/bench/torch_baseline.py --serve [--threads N]

Suites: elementwise, gemm, conv, layers, train, hybridize, rnn, infer. The gemm, conv and layers shapes come
from cases.json beside this file, which Engine.Bench embeds, so both sides run the same cases under the same
names. Written for Debian's
python3-torch 1.13 (oneDNN for convolutions, OpenBLAS through libopenblas0-pthread for torch.mm). The thread count
goes to OPENBLAS_NUM_THREADS and OMP_NUM_THREADS before torch is imported (OpenBLAS reads it only when it loads) and
to torch.set_num_threads after.

--serve runs no suite: it times cases on request for Engine.Bench's vs-torch suite, which starts it as a child and
takes turns with it (see serve()).
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUITES = ("elementwise", "gemm", "conv", "layers", "train", "hybridize", "rnn", "infer")

# Timing, as Engine.Bench/BenchContext.cs does it: warm up for WARMUP_CALLS calls and WARMUP_SECONDS and on until
# SETTLE_CALLS calls or SETTLE_SECONDS (the engine's JIT needs that; torch is timed the same way), group calls so a
# sample lasts MIN_SAMPLE_MS, take between MIN_SAMPLES and --repeat samples within --budget seconds.
WARMUP_CALLS = 2
WARMUP_SECONDS = 1.5
SETTLE_CALLS = 200
SETTLE_SECONDS = 5.0
MIN_SAMPLE_MS = 20.0
MIN_SAMPLES = 5


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch baseline for Engine.Bench (JSON lines).")
    p.add_argument("suite", choices=SUITES, nargs="?")
    p.add_argument("--serve", action="store_true", help="time cases on request from stdin (see serve())")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=30, help="most samples per case (default 30)")
    p.add_argument("--budget", type=float, default=2.0, help="seconds of samples per case (default 2)")
    p.add_argument("--filter", default=None, help="run only cases containing this text (case-insensitive)")
    p.add_argument("--out", default=None, help="also write the JSON lines to this file")
    p.add_argument("--list", action="store_true", help="print the case names and run nothing")
    args = p.parse_args(argv)
    if (args.suite is None) == (not args.serve):
        p.error("name a SUITE, or --serve without one")
    if args.threads < 1 or args.repeat < 1 or args.budget <= 0:
        p.error("--threads and --repeat need positive integers and --budget a positive number of seconds")
    return args


class Bench:
    """Times cases and emits one JSON line per case."""

    def __init__(self, args, out):
        self.args = args
        self.out = out

    def wants(self, case):
        """Whether to run the case (it passes --filter); with --list, prints it and runs nothing."""
        wanted = self.args.filter is None or self.args.filter.lower() in case.lower()
        if wanted and self.args.list:
            print(case)
        return wanted and not self.args.list

    def measure(self, case, body, flops=0.0, nbytes=0.0):
        fastest = float("inf")
        start = time.perf_counter()
        i = 0
        while True:
            elapsed = time.perf_counter() - start
            warm = i >= WARMUP_CALLS and elapsed >= WARMUP_SECONDS
            settled = i >= SETTLE_CALLS or elapsed >= SETTLE_SECONDS
            if warm and settled:
                break
            t0 = time.perf_counter()
            body()
            fastest = min(fastest, (time.perf_counter() - t0) * 1e3)
            i += 1
        calls = int(min(max(math.ceil(MIN_SAMPLE_MS / max(fastest, 1e-6)), 1), 1_000_000))
        fewest = min(MIN_SAMPLES, self.args.repeat)
        samples = int(min(max(math.floor(self.args.budget * 1000 / (calls * fastest)), fewest), self.args.repeat))
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            for _ in range(calls):
                body()
            times.append((time.perf_counter() - t0) * 1e3 / calls)
        times.sort()
        n = len(times)
        median = (times[(n - 1) // 2] + times[n // 2]) / 2
        row = {"suite": self.args.suite, "case": case, "threads": self.args.threads, "median_ms": sig4(median),
               "min_ms": sig4(times[0]), "q1_ms": sig4(times[(n - 1) // 4]), "q3_ms": sig4(times[3 * (n - 1) // 4]),
               "samples": samples, "calls_per_sample": calls}
        if flops > 0:
            row["gflops"] = round(flops / median / 1e6, 2)
        if nbytes > 0:
            row["gb_per_s"] = round(nbytes / median / 1e6, 2)
        row["peer"] = "torch"
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        print(line, flush=True)
        if self.out is not None:
            self.out.write(line + "\n")
            self.out.flush()


def sig4(ms):
    """Four significant digits, as Engine.Bench prints them."""
    if ms <= 0:
        return ms
    return round(ms, min(max(3 - math.floor(math.log10(ms)), 0), 15))


def load_cases():
    with open(os.path.join(HERE, "cases.json")) as f:
        return json.load(f)


def gemm_case(g):
    return f"{g['name']} {g['op']} {g['m']}x{g['n']}x{g['k']}"


def conv_case(c, pass_name):
    return (f"{c['name']} {c['c']}->{c['k']} {c['r']}x{c['s']} s{c['stride']} @{c['h']}x{c['w']} n{c['n']} "
            f"{pass_name}")


def deconv_case(c, pass_name):
    return (f"{c['name']} {c['c']}->{c['k']} {c['r']}x{c['s']} s{c['stride']} p{c['pad']} @{c['h']}x{c['w']} "
            f"n{c['n']} {pass_name}")


def layer_case(layer, pass_name):
    return f"{layer['op']} {layer['name']} {'x'.join(str(d) for d in layer['shape'])} {pass_name}"


def rand(torch, *shape):
    """Uniform in [-1, 1), as Engine.Bench's NativeFloats."""
    return torch.rand(*shape) * 2 - 1


def suite_elementwise(bench, torch):
    for n in (1 << 20, 1 << 24):
        a = torch.ones(n)
        b = torch.ones(n)
        for name, op in (("add", lambda: torch.add(a, b)), ("exp", lambda: torch.exp(a)),
                         ("relu", lambda: torch.relu(a))):
            case = f"{name}_{n}"
            if bench.wants(case):
                bench.measure(case, op, nbytes=(3.0 if name == "add" else 2.0) * n * 4)
    for side in (1024, 4096):
        case = f"transpose_{side}x{side}"
        if bench.wants(case):
            m = torch.ones(side, side)
            bench.measure(case, lambda: m.t().contiguous(), nbytes=2.0 * side * side * 4)


def suite_gemm(bench, torch, cases):
    for g in cases["gemm"]:
        case = gemm_case(g)
        if not bench.wants(case):
            continue
        m, n, k, op = g["m"], g["n"], g["k"], g["op"]
        # Stored as Engine.Bench stores them; .t() is a view, so torch.mm passes the transpose flag to sgemm.
        a = rand(torch, k, m).t() if op[0] == "T" else rand(torch, m, k)
        b = rand(torch, n, k).t() if op[1] == "T" else rand(torch, k, n)
        c = torch.empty(m, n)
        bench.measure(case, lambda: torch.mm(a, b, out=c), flops=2.0 * m * n * k)


def suite_conv(bench, torch, cases):
    import torch.nn.functional as F
    for c in cases["conv"]:
        passes = [p for p in ("fwd", "bwd_data", "bwd_weight") if bench.wants(conv_case(c, p))]
        if not passes:
            continue
        x = rand(torch, c["n"], c["c"], c["h"], c["w"])
        w = rand(torch, c["k"], c["c"], c["r"], c["s"])
        bias = rand(torch, c["k"]) if c["bias"] else None
        stride, pad = c["stride"], c["pad"]
        oh = (c["h"] + 2 * pad - c["r"]) // stride + 1
        ow = (c["w"] + 2 * pad - c["s"]) // stride + 1
        flops = 2.0 * c["n"] * c["k"] * c["c"] * c["r"] * c["s"] * oh * ow
        dy = rand(torch, c["n"], c["k"], oh, ow)
        if "fwd" in passes:
            bench.measure(conv_case(c, "fwd"), lambda: F.conv2d(x, w, bias, stride, pad), flops)
        if "bwd_data" in passes:
            # Only x requires grad, so autograd asks the convolution backward for dx alone.
            xg = x.clone().requires_grad_()
            y = F.conv2d(xg, w, bias, stride, pad)
            bench.measure(conv_case(c, "bwd_data"),
                          lambda: torch.autograd.grad(y, xg, dy, retain_graph=True), flops)
        if "bwd_weight" in passes:
            wg = w.clone().requires_grad_()
            y = F.conv2d(x, wg, bias, stride, pad)
            bench.measure(conv_case(c, "bwd_weight"),
                          lambda: torch.autograd.grad(y, wg, dy, retain_graph=True), flops)

    for c in cases.get("deconv", []):
        passes = [p for p in ("fwd", "fwd_bwd") if bench.wants(deconv_case(c, p))]
        if not passes:
            continue
        x = rand(torch, c["n"], c["c"], c["h"], c["w"])
        w = rand(torch, c["c"], c["k"], c["r"], c["s"])
        stride, pad = c["stride"], c["pad"]
        oh = (c["h"] - 1) * stride - 2 * pad + c["r"]
        ow = (c["w"] - 1) * stride - 2 * pad + c["s"]
        flops = 2.0 * c["n"] * c["k"] * c["c"] * c["r"] * c["s"] * c["h"] * c["w"]
        dy = rand(torch, c["n"], c["k"], oh, ow)
        if "fwd" in passes:
            bench.measure(deconv_case(c, "fwd"), lambda: F.conv_transpose2d(x, w, None, stride, pad), flops)
        if "fwd_bwd" in passes:
            xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()

            def step():
                y = F.conv_transpose2d(xg, wg, None, stride, pad)
                return torch.autograd.grad(y, (xg, wg), dy)
            bench.measure(deconv_case(c, "fwd_bwd"), step, 3 * flops)


def suite_layers(bench, torch, cases):
    import torch.nn.functional as F

    def forward_backward(layer, forward, inputs, extra=None):
        """Times forward(*inputs) without a graph, then autograd.grad of it (retain_graph) for 'bwd'."""
        if bench.wants(layer_case(layer, "fwd")):
            bench.measure(layer_case(layer, "fwd"), lambda: forward(*inputs))
        if bench.wants(layer_case(layer, "bwd")):
            grads = [t.clone().requires_grad_() for t in inputs]
            y = forward(*grads)
            dy = rand(torch, *y.shape)
            bench.measure(layer_case(layer, "bwd"), lambda: torch.autograd.grad(y, grads, dy, retain_graph=True))

    for layer in cases["layers"]:
        op, shape = layer["op"], layer["shape"]
        x = rand(torch, *shape)
        if op == "max_pool":
            forward_backward(layer, lambda t: F.max_pool2d(t, 2), [x])
        elif op == "global_avg_pool":
            forward_backward(layer, lambda t: F.adaptive_avg_pool2d(t, 1), [x])
        elif op == "batch_norm":
            ch = shape[1]
            running_mean, running_var = torch.zeros(ch), torch.ones(ch)
            gamma, beta = rand(torch, ch), rand(torch, ch)
            forward_backward(layer, lambda t, g, b: F.batch_norm(t, running_mean, running_var, g, b, training=True,
                                                                 momentum=0.1, eps=1e-5), [x, gamma, beta])
        elif op == "layer_norm":
            n = shape[-1]
            gamma, beta = rand(torch, n), rand(torch, n)
            forward_backward(layer, lambda t, g, b: F.layer_norm(t, (n,), g, b, 1e-5), [x, gamma, beta])
        elif op == "instance_norm":
            ch = shape[1]
            gamma, beta = rand(torch, ch), rand(torch, ch)
            forward_backward(layer, lambda t, g, b: F.instance_norm(t, weight=g, bias=b, eps=1e-3), [x, gamma, beta])
        elif op == "group_norm":
            # 32 groups, as Engine.Bench's LayersSuite.NormGroups (PyTorch's gamma is per channel, MXNet's per group).
            ch = shape[1]
            gamma, beta = rand(torch, ch), rand(torch, ch)
            forward_backward(layer, lambda t, g, b: F.group_norm(t, 32, g, b, 1e-5), [x, gamma, beta])
        elif op == "softmax":
            forward_backward(layer, lambda t: torch.softmax(t, -1), [x])
        elif op == "relu":
            if bench.wants(layer_case(layer, "fwd")):
                y = torch.empty_like(x)
                # relu into a preallocated output, as the engine kernel writes one (torch.relu has no out=).
                bench.measure(layer_case(layer, "fwd"), lambda: torch.clamp_min(x, 0.0, out=y),
                              nbytes=2.0 * 4 * x.numel())
        elif op == "add":
            if bench.wants(layer_case(layer, "fwd")):
                b, y = rand(torch, *shape), torch.empty_like(x)
                bench.measure(layer_case(layer, "fwd"), lambda: torch.add(x, b, out=y), nbytes=3.0 * 4 * x.numel())
        else:
            sys.exit(f"torch_baseline.py: cases.json names layer op '{op}', which this script does not know")


class Params:
    """Parameters with requires_grad, He-normal weights and zero biases, as Engine.Bench's TrainModel."""

    def __init__(self, torch):
        self.torch = torch
        self.list = []

    def weight(self, *shape):
        fan_in = math.prod(shape[1:])
        return self._add(self.torch.randn(*shape) * math.sqrt(2.0 / fan_in))

    def bias(self, n):
        return self._add(self.torch.zeros(n))

    def ones(self, n):
        return self._add(self.torch.ones(n))

    def _add(self, t):
        t.requires_grad_()
        self.list.append(t)
        return t


def mlp_model(torch, F):
    p = Params(torch)
    w1, b1, w2, b2 = p.weight(256, 784), p.bias(256), p.weight(10, 256), p.bias(10)
    return "mlp 784-256-10 b256", (256, 784), p.list, lambda x: F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)


def lenet_model(torch, F):
    p = Params(torch)
    c1, c1b, c2, c2b = p.weight(6, 1, 5, 5), p.bias(6), p.weight(16, 6, 5, 5), p.bias(16)
    f1, f1b, f2, f2b, f3, f3b = (p.weight(120, 256), p.bias(120), p.weight(84, 120), p.bias(84), p.weight(10, 84),
                                 p.bias(10))

    def forward(x):
        h = F.max_pool2d(F.relu(F.conv2d(x, c1, c1b)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, c2, c2b)), 2).flatten(1)
        h = F.relu(F.linear(h, f1, f1b))
        h = F.relu(F.linear(h, f2, f2b))
        return F.linear(h, f3, f3b)
    return "lenet b256", (256, 1, 28, 28), p.list, forward


def resnet18_model(torch, F, training=True):
    """Engine.Bench/Models/ResNet18Model.cs: CIFAR stem, BasicBlock v1 with batch norm, no conv bias; batch
    statistics when training, running statistics otherwise."""
    p = Params(torch)

    def norm(ch):
        return (p.ones(ch), p.bias(ch), torch.zeros(ch), torch.ones(ch))

    stem, stem_norm = (p.weight(64, 3, 3, 3), 1, 1), norm(64)
    blocks, cin = [], 64
    for ch, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for i in range(2):
            s = stride if i == 0 else 1
            down = i == 0 and (s != 1 or cin != ch)
            blocks.append(((p.weight(ch, cin, 3, 3), s, 1), norm(ch), (p.weight(ch, ch, 3, 3), 1, 1), norm(ch),
                           (p.weight(ch, cin, 1, 1), s, 0) if down else None, norm(ch) if down else None))
            cin = ch
    fc, fc_bias = p.weight(10, 512), p.bias(10)

    def conv(c, x):
        return F.conv2d(x, c[0], None, c[1], c[2])

    def bn(n, x):
        # PyTorch's momentum 0.1 is MXNet's 0.9.
        return F.batch_norm(x, n[2], n[3], n[0], n[1], training=training, momentum=0.1, eps=1e-5)

    def forward(x):
        h = F.relu(bn(stem_norm, conv(stem, x)))
        for c1, n1, c2, n2, cd, nd in blocks:
            r = F.relu(bn(n1, conv(c1, h)))
            r = bn(n2, conv(c2, r))
            shortcut = h if cd is None else bn(nd, conv(cd, h))
            h = F.relu(r + shortcut)
        return F.linear(F.adaptive_avg_pool2d(h, 1).flatten(1), fc, fc_bias)
    return "resnet18 b32", (32, 3, 32, 32), p.list, forward


def suite_train(bench, torch):
    """Per model, "NAME step" (forward, backward, SGD update) and "NAME fwd" (forward and loss, no graph)."""
    import torch.nn.functional as F
    for build in (mlp_model, lenet_model, resnet18_model):
        name, shape, params, forward = build(torch, F)
        step_case, forward_case = f"{name} step", f"{name} fwd"
        want_step, want_forward = bench.wants(step_case), bench.wants(forward_case)
        if not want_step and not want_forward:
            continue
        x = torch.randn(*shape)
        rng = random.Random(4)
        labels = torch.tensor([rng.randrange(10) for _ in range(shape[0])], dtype=torch.int64)
        opt = torch.optim.SGD(params, lr=0.01)
        losses = []

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(x), labels)
            loss.backward()
            opt.step()
            losses.append(loss.item())

        def loss_only():
            with torch.no_grad():
                return F.cross_entropy(forward(x), labels).item()

        if want_step:
            bench.measure(step_case, step)
            # The same batch every step, so the loss must fall: a check that the step really trains.
            print(f"{step_case}: loss {losses[0]:.4f} -> {losses[-1]:.4f} over the timed steps", file=sys.stderr)
        if want_forward:
            bench.measure(forward_case, loss_only)


def suite_hybridize(bench, torch):
    """Engine.Bench's hybridize suite in eager PyTorch: inference under torch.no_grad() ("mlp_b1", "lenet_b256",
    "resnet18_b32"; the engine's cases add _imperative, _hybrid or _static) and a training step ("mlp_b256_train":
    forward, cross-entropy, backward, SGD update)."""
    import torch.nn.functional as F
    models = (("mlp", mlp_model, (1, 256), 256), ("lenet", lenet_model, (1, 256), 256),
              ("resnet18", resnet18_model, (32,), 32))
    for name, build, batches, train_batch in models:
        for batch in batches:
            case = f"{name}_b{batch}"
            if not bench.wants(case):
                continue
            _, shape, _, forward = build(torch, F, training=False) if build is resnet18_model else build(torch, F)
            x = torch.randn(batch, *shape[1:])

            def infer():
                with torch.no_grad():
                    forward(x)
            bench.measure(case, infer)
        case = f"{name}_b{train_batch}_train"
        if not bench.wants(case):
            continue
        _, shape, params, forward = build(torch, F)
        x = torch.randn(train_batch, *shape[1:])
        rng = random.Random(4)
        labels = torch.tensor([rng.randrange(10) for _ in range(train_batch)], dtype=torch.int64)
        opt = torch.optim.SGD(params, lr=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(x), labels)
            loss.backward()
            opt.step()
        bench.measure(case, step)


def suite_rnn(bench, torch):
    """nn.LSTM and nn.GRU, 2 layers, hidden 256, input 128, sequence 35, batch 32 (TNC): "... fwd" under no_grad,
    "... step" forward and backward from the output with a fixed head gradient (input and parameter gradients)."""
    seq, batch, inputs, hidden, layers = 35, 32, 128, 256, 2
    for name, cls in (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        size = f"{name} 2x{hidden} in{inputs} T{seq} N{batch}"
        forward_case, step_case = size + " fwd", size + " step"
        want_forward, want_step = bench.wants(forward_case), bench.wants(step_case)
        if not want_forward and not want_step:
            continue
        net = cls(inputs, hidden, layers)
        x = torch.randn(seq, batch, inputs, requires_grad=True)
        head = torch.randn(seq, batch, hidden)

        def forward():
            with torch.no_grad():
                net(x)

        def step():
            net.zero_grad(set_to_none=True)
            x.grad = None
            y, _ = net(x)
            y.backward(head)

        if want_forward:
            bench.measure(forward_case, forward)
        if want_step:
            bench.measure(step_case, step)


STREAM_COPIES = 160  # as Engine.Bench's InferSuite: 128 MB of 784 x 256 weights, more than any L3


def suite_infer(bench, torch):
    """Eager per-operator cost and small-batch inference, as Engine.Bench's infer suite: "dispatch" cases call
    one small operator (or the MLP at batch 1, no grad) allocating its output; "stream" cases run a 784 -> 256
    layer at batch 1 and 4 with the weights read from memory (each call the next of STREAM_COPIES copies)."""
    import torch.nn.functional as F
    a, b = torch.randn(256), torch.randn(256)
    if bench.wants("dispatch relu 256"):
        bench.measure("dispatch relu 256", lambda: torch.relu(a))
    if bench.wants("dispatch add 256"):
        bench.measure("dispatch add 256", lambda: torch.add(a, b))
    if bench.wants("dispatch mlp 784-256-10 b1 infer"):
        p = Params(torch)
        w1, b1, w2, b2 = p.weight(256, 784), p.bias(256), p.weight(10, 256), p.bias(10)
        x1 = torch.randn(1, 784)

        def infer():
            with torch.no_grad():
                return F.linear(F.relu(F.linear(x1, w1, b1)), w2, b2)

        bench.measure("dispatch mlp 784-256-10 b1 infer", infer)
    size = 784 * 256
    state = {"next": 0, "weights": None}

    def next_copy():
        if state["weights"] is None:
            state["weights"] = rand(torch, STREAM_COPIES, size)
        state["next"] = (state["next"] + 1) % STREAM_COPIES
        return state["weights"][state["next"]]

    if bench.wants("stream read 784x256"):
        bench.measure("stream read 784x256", lambda: torch.sum(next_copy()), nbytes=size * 4.0)

    for m in (1, 4):
        x = rand(torch, m, 784)
        y = torch.empty(m, 256)
        # x W^T: W stored 256 x 784 (out x in), as FullyConnected; x W: W stored 784 x 256 (in x out).
        for trans, view in (("^T", lambda w: w.view(256, 784).t()), ("", lambda w: w.view(784, 256))):
            name = f"stream fc b{m} x W{trans}"
            if bench.wants(name):
                bench.measure(name, lambda: torch.mm(x, view(next_copy()), out=y), nbytes=size * 4.0)


# Prints the core OpenBLAS picks on this machine; run in a child process, because OpenBLAS reads
# OPENBLAS_CORETYPE only once, when it loads.
PROBE = """
import ctypes, ctypes.util
lib = ctypes.CDLL(ctypes.util.find_library("openblas") or "libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())
"""

GENERIC_CORES = ("prescott", "core2", "nehalem", "unknown", "")


def choose_openblas_core():
    """OpenBLAS's core type when its own detection would fall back to generic SSE kernels.

    Debian 12's OpenBLAS 0.3.21 does not know CPUs released after it (Intel family 6 model 207 here) and runs its
    Prescott (SSE3) kernels on them: about 30 GFLOP/s instead of 110-150 on one core. When OPENBLAS_CORETYPE is not
    set, the detection falls back like that, and the CPU has AVX-512 (or AVX2), this names the matching kernels, so
    the baseline is OpenBLAS at its best. Returns (core, note)."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return os.environ["OPENBLAS_CORETYPE"], "from OPENBLAS_CORETYPE"
    try:
        detected = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                  timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, "OpenBLAS not found"
    if detected.lower() not in GENERIC_CORES:
        return detected, "detected"
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    core = "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else None
    if core is None:
        return detected, "detected"
    os.environ["OPENBLAS_CORETYPE"] = core
    return core, f"set: OpenBLAS detected {detected or 'nothing'} on this CPU"


SERVED = {"gemm": suite_gemm, "train": suite_train, "infer": suite_infer, "hybridize": suite_hybridize,
          "layers": suite_layers, "conv": suite_conv, "rnn": suite_rnn, "elementwise": suite_elementwise}


class CaseCaught(Exception):
    """Ends a suite function as soon as CaseCatcher has its case: the rest of the loop would rebind the variables the
    body's closure reads."""


class CaseCatcher:
    """Stands in for Bench while a suite function sets up one case: it wants only that case, and keeps the body the
    suite would time instead of timing it. So the served cases are the suites' own definitions."""

    def __init__(self, case):
        self.case = case
        self.body = None

    def wants(self, case):
        return case == self.case

    def measure(self, case, body, flops=0.0, nbytes=0.0):
        self.body = body
        raise CaseCaught()


def set_up(torch, cases, suite, case):
    """The body of CASE in SUITE, set up by the suite's own function; None when the suite has no such case."""
    catcher = CaseCatcher(case)
    run = SERVED[suite]
    try:
        if run in (suite_gemm, suite_conv, suite_layers):
            run(catcher, torch, cases)
        else:
            run(catcher, torch)
    except CaseCaught:
        pass
    return catcher.body


def time_samples(body, amount, calls):
    """Per-call ms of samples of CALLS calls: AMOUNT samples ("5"), or samples until AMOUNT seconds ("0.1s") have
    passed, at least one."""
    times = []
    seconds = float(amount[:-1]) if amount.endswith("s") else None
    count = None if seconds is not None else int(amount)
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            body()
        t1 = time.perf_counter()
        times.append((t1 - t0) * 1e3 / calls)
        if (t1 - start >= seconds) if seconds is not None else len(times) >= count:
            return times


def serve_command(torch, cases, bodies, line):
    """Answers one command line with one JSON object (see serve())."""
    words = line.split()
    if len(words) < 5 or words[0] != "run":
        return {"error": f"unknown command '{line}'; commands: run SUITE AMOUNT CALLS CASE..., quit"}
    suite, amount, calls, case = words[1], words[2], words[3], " ".join(words[4:])
    if suite not in SERVED:
        return {"error": f"unknown suite '{suite}'; suites: {', '.join(SERVED)}"}
    try:
        calls = int(calls)
        if calls < 1 or (float(amount[:-1]) if amount.endswith("s") else int(amount)) <= 0:
            raise ValueError
    except ValueError:
        return {"error": f"AMOUNT must be a positive count or seconds ('0.1s') and CALLS a positive count: '{line}'"}
    if (suite, case) not in bodies:
        body = set_up(torch, cases, suite, case)
        if body is None:
            return {"error": f"suite {suite} has no case '{case}'"}
        bodies[(suite, case)] = body
    return {"case": case, "calls_per_sample": calls, "times_ms": time_samples(bodies[(suite, case)], amount, calls)}


def serve(torch, info, stdin=sys.stdin, stdout=sys.stdout):
    """Times cases on request, for Engine.Bench's vs-torch suite. First prints one JSON line, {"ready": true, ...}
    with the torch version, threads and instruction-set paths; then answers each command on stdin with one JSON line:

        run SUITE AMOUNT CALLS CASE   e.g. "run train 1 1 mlp 784-256-10 b256 step", "run infer 0.1s 500 dispatch
                                      relu 256": samples of CALLS calls of CASE (as SUITE names it), AMOUNT samples
                                      or as many as fill AMOUNT seconds; the reply is {"case", "calls_per_sample",
                                      "times_ms": [per-call ms of each sample]}. A case is set up on its first run
                                      (outside the timing) and kept.
        quit                          ends the process.

    A bad command gets {"error": "..."} and the server goes on; end of input ends it too."""
    cases = load_cases()
    bodies = {}
    print(json.dumps({"ready": True, **info}), file=stdout, flush=True)
    for line in stdin:
        line = line.strip()
        if line == "quit":
            break
        if not line:
            continue
        try:
            reply = serve_command(torch, cases, bodies, line)
        except Exception as e:  # a case that fails must not take the server down: say what failed
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), file=stdout, flush=True)


def cpu_capability(torch):
    """ATen's kernel path as torch reports it ("AVX2", "AVX512", "DEFAULT")."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def main(argv):
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    blas_core, blas_note = choose_openblas_core()
    try:
        import torch
    except ImportError as e:
        sys.exit(f"torch_baseline.py: cannot import torch ({e}); install Debian's python3-torch and run with "
                 "/usr/bin/python3.")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, oneDNN "
          f"{torch.backends.mkldnn.is_available()}, OpenBLAS core {blas_core} ({blas_note}), ATen "
          f"{cpu_capability(torch)}", file=sys.stderr)
    if args.serve:
        serve(torch, {"torch": torch.__version__, "threads": torch.get_num_threads(), "openblas_core": blas_core,
                      "aten": cpu_capability(torch), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset")})
        return
    cases = load_cases()
    out = open(args.out, "w") if args.out else None
    try:
        bench = Bench(args, out)
        if args.suite == "elementwise":
            suite_elementwise(bench, torch)
        elif args.suite == "gemm":
            suite_gemm(bench, torch, cases)
        elif args.suite == "conv":
            suite_conv(bench, torch, cases)
        elif args.suite == "layers":
            suite_layers(bench, torch, cases)
        elif args.suite == "hybridize":
            suite_hybridize(bench, torch)
        elif args.suite == "rnn":
            suite_rnn(bench, torch)
        elif args.suite == "infer":
            suite_infer(bench, torch)
        else:
            suite_train(bench, torch)
    finally:
        if out is not None:
            out.close()


if __name__ == "__main__":
    main(sys.argv[1:])
