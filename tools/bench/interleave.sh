#!/usr/bin/env bash
# One instruction-set path, case by case: for each filter, Engine.Bench and then the PyTorch baseline run the cases
# it selects, back to back, so both sides of a ratio meet nearly the same load on a shared machine (a whole suite
# on one side, then on the other, can meet loads minutes apart). Rounds repeat the whole list; the load average
# before each pair goes to OUTDIR/load.txt. Usage, after dotnet build Engine.Bench -c Release:
#   tools/bench/interleave.sh OUTDIR PATH THREADS ROUNDS SUITE FILTER [FILTER ...]
#   tools/bench/interleave.sh artifacts/conv-avx2 Vector256 1 3 conv lenet.conv1 lenet.conv2 resnet.l1
# PATH is Vector512 (both sides as detected) or Vector256 (the engine with DOTNET_EnableAVX512=0, PyTorch with
# OpenBLAS's Haswell kernels and oneDNN and ATen capped at AVX2). ENGINE_BASELINE=path/to/Engine.Bench.dll adds an
# earlier build of the engine as a third side (files base-*.jsonl), run just before the current one. Then:
#   python3 tools/bench/compare.py --engine OUTDIR/engine-*.jsonl --torch OUTDIR/torch-*.jsonl
set -euo pipefail
out=${1:?usage: tools/bench/interleave.sh OUTDIR PATH THREADS ROUNDS SUITE FILTER [FILTER ...]}
path=${2:?PATH: Vector512 or Vector256}
threads=${3:?THREADS}
rounds=${4:?ROUNDS}
suite=${5:?SUITE}
shift 5
mkdir -p "$out"
bench="dotnet Engine.Bench/bin/Release/net10.0/Engine.Bench.dll"
torch="/usr/bin/python3 tools/bench/torch_baseline.py"
opts="--budget ${BUDGET:-1} --repeat ${REPEAT:-10}"
case "$path" in
  Vector256)
    engine_env=(DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0)
    torch_env=(OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2) ;;
  Vector512)
    engine_env=(ENGINE_PATH=Vector512)
    torch_env=(ENGINE_PATH=Vector512) ;;
  *) echo "PATH must be Vector512 or Vector256, not $path" >&2; exit 2 ;;
esac
for round in $(seq 1 "$rounds"); do
  for filter in "$@"; do
    tag="$path-$suite-$filter-t$threads-r$round-$(date -u +%H%M%S)"
    tag=${tag// /_}
    args=($suite --threads "$threads" $opts --filter "$filter")
    echo "$(date -u +%H:%M:%S) $tag load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
    if [ -n "${ENGINE_BASELINE:-}" ]; then
      env "${engine_env[@]}" dotnet "$ENGINE_BASELINE" "${args[@]}" --out "$out/base-$tag.jsonl" > /dev/null \
        2> "$out/base-$tag.err"
    fi
    env "${engine_env[@]}" $bench "${args[@]}" --out "$out/engine-$tag.jsonl" > /dev/null 2> "$out/engine-$tag.err"
    env "${torch_env[@]}" $torch "${args[@]}" --out "$out/torch-$tag.jsonl" > /dev/null 2> "$out/torch-$tag.err"
  done
done
echo "$(date -u +%H:%M:%S) done load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
