#!/usr/bin/env bash
# Engine.Bench's vs-torch suite (the engine and PyTorch in turns, in one time window) on both instruction-set paths
# at 1 and 2 threads: the training steps, MLP b1 inference and dispatch, and the SGEMM squares NN 256-2048. The load
# average before each run goes to OUTDIR/load.txt; each run's JSON lines to OUTDIR/PATH-tTHREADS-rROUND.jsonl, its
# table and stderr beside them. Usage, after dotnet build Engine.Bench -c Release:
#   tools/bench/vs_torch.sh OUTDIR [ROUNDS] [BUDGET] [THREADS]    (THREADS: "1 2", the default, or "2")
#   python3 tools/bench/vs_torch_table.py OUTDIR
set -euo pipefail
out=${1:?usage: tools/bench/vs_torch.sh OUTDIR [ROUNDS] [BUDGET] [THREADS]}
rounds=${2:-1}
budget=${3:-2}
thread_counts=${4:-1 2}
mkdir -p "$out"
bench="dotnet Engine.Bench/bin/Release/net10.0/Engine.Bench.dll"
for round in $(seq 1 "$rounds"); do
  for path in Vector256 Vector512; do
    if [ "$path" = Vector256 ]; then
      env_path=(DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0 OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2
        ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2)
    else
      env_path=(ENGINE_PATH=Vector512)
    fi
    for threads in $thread_counts; do
      tag="$path-t$threads-r$round"
      echo "$(date -u +%H:%M:%S) $tag load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
      env "${env_path[@]}" $bench vs-torch --threads "$threads" --budget "$budget" --out "$out/$tag.jsonl" \
        > "$out/$tag.txt" 2> "$out/$tag.err" || echo "$tag failed: see $out/$tag.err" | tee -a "$out/load.txt"
    done
  done
done
echo "$(date -u +%H:%M:%S) done load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
