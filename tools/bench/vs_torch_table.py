#!/usr/bin/python3
"""Markdown tables of vs-torch runs written by tools/bench/vs_torch.sh: one per instruction-set path, a row per
case and thread count, with the one-minute load average logged before each run.

    python3 tools/bench/vs_torch_table.py OUTDIR [OUTDIR ...]

Each cell lists the rounds in order (load before each / ...). Times are per call (us for calls under 0.1 ms, else ms); ratio = engine / PyTorch from the fastest samples,
median ratio from the medians (below 1: the engine is faster).
"""

import glob
import json
import os
import re
import sys

TAG = re.compile(r"(?P<path>Vector\d+)-t(?P<threads>\d+)-r(?P<round>\d+)$")
PATHS = {"Vector256": "AVX2 forced (engine Vector256; OpenBLAS Haswell, ATen and oneDNN capped at AVX2)",
         "Vector512": "AVX-512 (engine Vector512; OpenBLAS and oneDNN as detected)"}


def loads(outdir):
    """Tag -> one-minute load average before its run, from load.txt."""
    found = {}
    path = os.path.join(outdir, "load.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                words = line.split()
                if len(words) >= 4 and words[2] == "load":
                    found[words[1]] = words[3]
    return found


def read(outdirs):
    """Rows (path, case order, threads, round label, load, result) from every OUTDIR."""
    rows = []
    for n, outdir in enumerate(outdirs):
        load = loads(outdir)
        for file in sorted(glob.glob(os.path.join(outdir, "*.jsonl"))):
            tag = os.path.basename(file)[:-len(".jsonl")]
            m = TAG.match(tag)
            if m is None:
                continue
            with open(file) as f:
                results = [json.loads(line) for line in f if line.strip()]
            label = m["round"] if len(outdirs) == 1 else f"{n + 1}.{m['round']}"
            for order, r in enumerate(results):
                rows.append((m["path"], order, int(m["threads"]), label, load.get(tag, "?"), r))
    return rows


def time(ms, unit):
    value = ms * 1000 if unit == "us" else ms
    return f"{value:.0f}" if value >= 1000 else f"{value:.4g}"


def table(rows, path):
    """One row per case and thread count; each cell lists the rounds in order, separated by slashes."""
    lines = [f"{PATHS.get(path, path)}:", "",
             "| case | threads | load | engine median | PyTorch median | ratio (fastest) | median ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    groups = {}
    for _, order, threads, label, load, r in sorted((r for r in rows if r[0] == path), key=lambda r: r[3]):
        groups.setdefault((order, threads), []).append((load, r))
    for (_, threads), rounds in sorted(groups.items()):
        unit = "us" if rounds[0][1]["median_ms"] < 0.1 else "ms"

        def cells(pick):
            return " / ".join(pick(load, r) for load, r in rounds)
        lines.append(f"| {rounds[0][1]['case']} ({unit}) | {threads} | "
                     f"{cells(lambda load, r: str(round(float(load))))} | "
                     f"{cells(lambda load, r: time(r['median_ms'], unit))} | "
                     f"{cells(lambda load, r: time(r['peer_median_ms'], unit))} | "
                     f"{cells(lambda load, r: format(r['ratio'], '.2f'))} | "
                     f"{cells(lambda load, r: format(r['median_ratio'], '.2f'))} |")
    return "\n".join(lines)


def main(argv):
    if not argv or any(not os.path.isdir(d) for d in argv):
        sys.exit("usage: python3 tools/bench/vs_torch_table.py OUTDIR [OUTDIR ...] (folders of vs_torch.sh)")
    rows = read(argv)
    if not rows:
        sys.exit(f"no PATH-tTHREADS-rROUND.jsonl files in {', '.join(argv)}")
    print("\n\n".join(table(rows, p) for p in sorted({r[0] for r in rows})))


if __name__ == "__main__":
    main(sys.argv[1:])
