#!/usr/bin/python3
"""Compares Engine.Bench JSON lines with tools/bench/torch_baseline.py JSON lines.

    python3 tools/bench/compare.py --engine E1.jsonl [E2.jsonl ...] [--torch T1.jsonl ...] [--markdown OUT.md]
        [--worst N]

Cases are matched on (suite, case, threads). When a case appears in several files of one side (several rounds of
the same suite, run alternately with the other side), the round with the lowest median counts: on a shared machine
a load burst only ever slows a round down. Prints a table (suite, case, threads, engine ms, torch ms, engine/torch,
GFLOP/s of both; GB/s for bandwidth cases) and the worst ratios; --markdown writes the same as markdown, one table
per suite. Without torch files it shows the engine's numbers alone.
"""

import argparse
import json
import sys

SUITE_ORDER = {"gemm": 0, "conv": 1, "layers": 2, "train": 3, "elementwise": 4}


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


def build_rows(engine, torch):
    # Suite by suite and thread count by thread count, cases in the order the suites print them (cases.json order).
    order = {}
    for key in list(engine) + list(torch):
        order.setdefault(key, len(order))
    keys = sorted(order, key=lambda k: (SUITE_ORDER.get(k[0], 9), k[0], k[2], order[k]))
    rows = []
    for key in keys:
        e = engine.get(key, (None, 0))[0]
        t = torch.get(key, (None, 0))[0]
        ratio = e["median_ms"] / t["median_ms"] if e is not None and t is not None and t["median_ms"] > 0 else None
        rows.append({"suite": key[0], "case": key[1], "threads": key[2], "engine": e, "torch": t, "ratio": ratio})
    return rows


HEADER = ["suite", "case", "threads", "engine ms", "torch ms", "engine/torch", "engine GFLOP/s", "torch GFLOP/s"]


def cells(r):
    ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
    return [r["suite"], r["case"], str(r["threads"]), ms(r["engine"]), ms(r["torch"]), ratio, rate(r["engine"]),
            rate(r["torch"])]


def text_table(header, body):
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(header)]
    right = {2, 3, 4, 5, 6, 7}

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
    p.add_argument("--markdown", help="write the tables as markdown to this file")
    p.add_argument("--worst", type=int, default=15, help="how many of the worst ratios to list (default 15)")
    args = p.parse_args(argv)

    engine = read(args.engine, "engine")
    torch = read(args.torch, "torch")
    rows = build_rows(engine, torch)
    if not torch:
        header = HEADER[:4] + ["engine GFLOP/s"]
        body = [[c[0], c[1], c[2], c[3], c[6]] for c in map(cells, rows)]
        print("(no torch baseline: engine numbers only)")
        print(text_table(header, body))
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(markdown_table(header, body) + "\n")
        return

    body = [cells(r) for r in rows]
    worst = sorted((r for r in rows if r["ratio"] is not None), key=lambda r: -r["ratio"])[:args.worst]
    worst_body = [cells(r) for r in worst]
    missing = [r for r in rows if r["ratio"] is None]
    rounds = max([n for _, n in engine.values()] + [n for _, n in torch.values()])

    print(text_table(HEADER, body))
    print(f"\nworst {len(worst)} ratios (engine/torch > 1: the engine is slower)")
    print(text_table(HEADER, worst_body))
    if missing:
        print(f"\n{len(missing)} cases ran on one side only: " + "; ".join(f"{r['case']} ({r['threads']}t)"
                                                                          for r in missing))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"Median ms per call; the lower median of {rounds} round(s) per side. engine/torch > 1 means "
                    "the engine is slower.\n")
            for suite in dict.fromkeys(r["suite"] for r in rows):
                f.write(f"\n### {suite}\n\n")
                f.write(markdown_table(HEADER, [cells(r) for r in rows if r["suite"] == suite]) + "\n")
            f.write(f"\n### Worst {len(worst)} ratios\n\n" + markdown_table(HEADER, worst_body) + "\n")

if __name__ == "__main__":
    main(sys.argv[1:])
