#!/usr/bin/python3
"""The tables of docs/performance.md's instruction-set comparison, from the JSON lines tools/bench/paths.sh writes.

    python3 tools/bench/paths_table.py OUTDIR [OUTDIR ...]

Per case, path, thread count and side, the lowest median over the directories (rounds) given. GFLOP/s for SGEMM
(engine/PyTorch is then the GFLOP/s ratio, above 1: the engine is faster); GB/s over the weights for the streamed
layers, with the fraction of the engine's read anchor of the same run; microseconds for the dispatch cases and
milliseconds for the training steps (engine/PyTorch a time ratio, below 1: the engine is faster).
"""

import collections
import glob
import json
import sys

ROWS = [
    ("SGEMM 256 (GFLOP/s)", "square NN 256x256x256", "gf"),
    ("SGEMM 512 (GFLOP/s)", "square NN 512x512x512", "gf"),
    ("SGEMM 1024 (GFLOP/s)", "square NN 1024x1024x1024", "gf"),
    ("SGEMM 2048 (GFLOP/s)", "square NN 2048x2048x2048", "gf"),
    ("read anchor, 784x256 weights (GB/s)", "stream read 784x256", "bw"),
    ("FC 1x784->256, x W^T (GB/s; / read)", "stream fc b1 x W^T", "fc"),
    ("FC 1x784->256, x W (GB/s; / read)", "stream fc b1 x W", "fc"),
    ("FC 4x784->256, x W^T (GB/s; / read)", "stream fc b4 x W^T", "fc"),
    ("FC 4x784->256, x W (GB/s; / read)", "stream fc b4 x W", "fc"),
    ("relu 256 floats, eager (us)", "dispatch relu 256", "us"),
    ("add 256 + 256 floats, eager (us)", "dispatch add 256", "us"),
    ("MLP 784-256-10 b1 inference, eager (us)", "dispatch mlp 784-256-10 b1 infer", "us"),
    ("MLP 784-256-10 b256 training step (ms)", "mlp 784-256-10 b256 step", "ms"),
    ("LeNet b256 training step (ms)", "lenet b256 step", "ms"),
    ("ResNet-18 32x32 b32 training step (ms)", "resnet18 b32 step", "ms"),
]

PATHS = [
    ("Vector512", "AVX-512 (engine Vector512; OpenBLAS and oneDNN as detected)"),
    ("Vector256", "AVX2 forced (engine DOTNET_EnableAVX512=0; OPENBLAS_CORETYPE=Haswell, ATEN_CPU_CAPABILITY=avx2, "
                  "ONEDNN_MAX_CPU_ISA=AVX2)"),
]


def load(dirs):
    best = collections.defaultdict(dict)
    for d in dirs:
        for side in ("engine", "torch"):
            for f in glob.glob(f"{d}/{side}-*.jsonl"):
                path = f.split("/")[-1].split("-")[1]
                with open(f) as lines:
                    for line in lines:
                        r = json.loads(line)
                        key = (path, r["threads"], r["case"])
                        if side not in best[key] or r["median_ms"] < best[key][side]["median_ms"]:
                            best[key][side] = r
    return best


def short(v):
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def cell(best, path, threads, case, kind):
    e = best.get((path, threads, case), {}).get("engine")
    t = best.get((path, threads, case), {}).get("torch")
    if not e:
        return ["-", "-", "-"]
    if kind == "gf":
        ev, tv = e["gflops"], t["gflops"] if t else None
        return [f"{ev:.1f}", f"{tv:.1f}" if tv else "-", f"{ev / tv:.2f}" if tv else "-"]
    if kind in ("bw", "fc"):
        read = best[(path, threads, "stream read 784x256")]["engine"]["gb_per_s"]
        ev, tv = e["gb_per_s"], t["gb_per_s"] if t else None
        if kind == "bw":
            return [f"{ev:.2f}", f"{tv:.2f}" if tv else "-", "-"]
        return [f"{ev:.2f}; {ev / read:.2f}", f"{tv:.2f}; {tv / read:.2f}" if tv else "-",
                f"{e['median_ms'] / t['median_ms']:.2f}" if t else "-"]
    scale = 1000 if kind == "us" else 1
    ev, tv = e["median_ms"] * scale, t["median_ms"] * scale if t else None
    return [short(ev), short(tv) if tv else "-", f"{ev / tv:.2f}" if tv else "-"]


def main(dirs):
    best = load(dirs)
    for path, title in PATHS:
        print(f"\n{title}:\n")
        print("| case | engine, 1 thread | PyTorch, 1 thread | engine/PyTorch | engine, 2 threads | PyTorch, 2 threads "
              "| engine/PyTorch |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, case, kind in ROWS:
            cells = cell(best, path, 1, case, kind) + cell(best, path, 2, case, kind)
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: paths_table.py OUTDIR [OUTDIR ...]")
    main(sys.argv[1:])
