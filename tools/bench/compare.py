#!/usr/bin/python3
"""Compares Engine.Bench JSON lines with tools/bench/torch_baseline.py JSON lines.

    python3 tools/bench/compare.py --engine E1.jsonl [E2.jsonl ...] [--torch T1.jsonl ...] [--ort O1.jsonl ...]
        [--markdown OUT.md] [--worst N]

Cases are matched on (suite, case, threads). When a case appears in several files of one side (several rounds of
the same suite, run alternately with the other side), the round with the lowest median counts: on a shared machine
a load burst only ever slows a round down. Prints a table (suite, case, threads, engine ms, torch ms, engine/torch,
GFLOP/s of both; GB/s for bandwidth cases) and the worst ratios; --markdown writes the same as markdown, one table
per suite. Without torch files it shows the engine's numbers alone.

The hybridize suite runs each case in three modes (mlp_b1_imperative, mlp_b1_hybrid, mlp_b1_static) against one
peer case (mlp_b1): every mode is paired with it. --ort adds ONNX Runtime's inference cases
(tools/bench/onnxruntime_baseline.js) as a second peer, with its own columns.
"""

import argparse
import json
import sys

SUITE_ORDER = {"gemm": 0, "conv": 1, "layers": 2, "train": 3, "elementwise": 4, "hybridize": 5, "memory": 6}
MODES = ("_imperative", "_hybrid", "_static")


def peer_key(key):
    """The peer case an engine case compares with: the hybridize suite's modes share one peer case."""
    suite, case, threads = key
    if suite == "hybridize":
        for mode in MODES:
            if case.endswith(mode):
                return suite, case[:-len(mode)], threads
    return key


def read(paths, side):
    """{(suite, case, threads): (row, rounds)} keeping the row with the lowest median_ms."""
    best = {}
    for path in paths:
        try:
            with open(path) as f:
                lines = [line for line in f if line.strip()]
        except OSError as e:
            sys.exit(f"compare.py: cannot read {side} file {path}: {e.strerror}")
        for number, line in enumerate(lines, 1):
            try:
                row = json.loads(line)
                key = (row["suite"], row["case"], int(row["threads"]))
                float(row["median_ms"])
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"compare.py: {path} line {number} is not a benchmark JSON line ({e}); expected an object "
                         "with suite, case, threads and median_ms")
            if key in best:
                old, rounds = best[key]
                best[key] = (row if row["median_ms"] < old["median_ms"] else old, rounds + 1)
            else:
                best[key] = (row, 1)
    return best


def rate(row):
    """GFLOP/s, or GB/s marked as such, or '' when neither applies."""
    if row is None:
        return ""
    if row.get("gflops") is not None:
        return f"{row['gflops']:.1f}"
    if row.get("gb_per_s") is not None:
        return f"{row['gb_per_s']:.1f} GB/s"
    return ""


def ms(row):
    if row is None:
        return "-"
    v = row["median_ms"]
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def build_rows(engine, torch, ort=None):
    # Suite by suite and thread count by thread count, cases in the order the suites print them (cases.json order).
    ort = ort or {}
    order = {}
    paired = {peer_key(k) for k in engine}
    for key in list(engine) + [k for k in list(torch) + list(ort) if k not in paired]:
        order.setdefault(key, len(order))
    keys = sorted(order, key=lambda k: (SUITE_ORDER.get(k[0], 9), k[0], k[2], order[k]))
    rows = []
    for key in keys:
        e = engine.get(key, (None, 0))[0]
        t = torch.get(peer_key(key), (None, 0))[0]
        o = ort.get(peer_key(key), (None, 0))[0]
        rows.append({"suite": key[0], "case": key[1], "threads": key[2], "engine": e, "torch": t, "ort": o,
                     "ratio": quotient(e, t), "ort_ratio": quotient(e, o)})
    return rows


def quotient(e, peer):
    if e is None or peer is None or peer["median_ms"] <= 0:
        return None
    return e["median_ms"] / peer["median_ms"]


HEADER = ["suite", "case", "threads", "engine ms", "torch ms", "engine/torch", "engine GFLOP/s", "torch GFLOP/s"]


ORT_HEADER = ["ort ms", "engine/ort"]


def cells(r, with_ort=False):
    ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
    row = [r["suite"], r["case"], str(r["threads"]), ms(r["engine"]), ms(r["torch"]), ratio, rate(r["engine"]),
           rate(r["torch"])]
    if with_ort:
        row += [ms(r["ort"]), "" if r["ort_ratio"] is None else f"{r['ort_ratio']:.2f}"]
    return row


def text_table(header, body):
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(header)]
    right = set(range(2, len(header)))

    def fmt(c):
        return "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(c, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in body])


def markdown_table(header, body):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---:" if i >= 2 else "---" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(c) + " |" for c in body]
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description="Engine.Bench against the PyTorch baseline.")
    p.add_argument("--engine", nargs="+", required=True, help="Engine.Bench JSON-lines files")
    p.add_argument("--torch", nargs="*", default=[], help="torch_baseline.py JSON-lines files")
    p.add_argument("--ort", nargs="*", default=[], help="onnxruntime_baseline.js JSON-lines files")
    p.add_argument("--markdown", help="write the tables as markdown to this file")
    p.add_argument("--worst", type=int, default=15, help="how many of the worst ratios to list (default 15)")
    args = p.parse_args(argv)

    engine = read(args.engine, "engine")
    torch = read(args.torch, "torch")
    ort = read(args.ort, "onnxruntime")
    rows = build_rows(engine, torch, ort)
    if not torch and not ort:
        header = HEADER[:4] + ["engine GFLOP/s"]
        body = [[c[0], c[1], c[2], c[3], c[6]] for c in map(cells, rows)]
        print("(no torch baseline: engine numbers only)")
        print(text_table(header, body))
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(markdown_table(header, body) + "\n")
        return

    with_ort = bool(ort)
    header = HEADER + ORT_HEADER if with_ort else HEADER
    body = [cells(r, with_ort) for r in rows]
    worst = sorted((r for r in rows if r["ratio"] is not None), key=lambda r: -r["ratio"])[:args.worst]
    worst_body = [cells(r, with_ort) for r in worst]
    missing = [r for r in rows if r["ratio"] is None and r["ort_ratio"] is None]
    rounds = max([n for _, n in engine.values()] + [n for _, n in torch.values()] + [n for _, n in ort.values()])

    print(text_table(header, body))
    print(f"\nworst {len(worst)} ratios (engine/torch > 1: the engine is slower)")
    print(text_table(header, worst_body))
    if missing:
        print(f"\n{len(missing)} cases ran on one side only: " + "; ".join(f"{r['case']} ({r['threads']}t)"
                                                                          for r in missing))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"Median ms per call; the lower median of {rounds} round(s) per side. engine/torch > 1 means "
                    "the engine is slower.\n")
            for suite in dict.fromkeys(r["suite"] for r in rows):
                f.write(f"\n### {suite}\n\n")
                f.write(markdown_table(header, [cells(r, with_ort) for r in rows if r["suite"] == suite]) + "\n")
            f.write(f"\n### Worst {len(worst)} ratios\n\n" + markdown_table(header, worst_body) + "\n")

if __name__ == "__main__":
    main(sys.argv[1:])
