#!/usr/bin/env bash
# The instruction-set comparison of docs/performance.md: Engine.Bench and the PyTorch baseline alternately, on the
# AVX-512 path and on the forced AVX2 path (peers forced the same way), at 1 and 2 threads, for the SGEMM squares,
# the infer suite (tiny-operator dispatch, MLP batch 1, streamed 784 -> 256 layers with the read anchor) and the
# training steps. Usage: tools/bench/paths.sh OUTDIR [ROUNDS] (after dotnet build Engine.Bench -c Release).
# Then: python3 tools/bench/compare.py --engine OUTDIR/engine-*.jsonl --torch OUTDIR/torch-*.jsonl --markdown ...
set -euo pipefail
out=${1:?usage: tools/bench/paths.sh OUTDIR [ROUNDS]}
rounds=${2:-1}
mkdir -p "$out"
bench="dotnet Engine.Bench/bin/Release/net10.0/Engine.Bench.dll"
torch="/usr/bin/python3 tools/bench/torch_baseline.py"
opts="--budget 1 --repeat 10"
for round in $(seq 1 "$rounds"); do
  for path in Vector512 Vector256; do
    if [ "$path" = Vector256 ]; then
      engine_env=(DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0)
      torch_env=(OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2)
    else
      engine_env=(ENGINE_PATH=Vector512)
      torch_env=(ENGINE_PATH=Vector512)
    fi
    for threads in 1 2; do
      for spec in "gemm:square NN" "infer:" "train:step"; do
        suite=${spec%%:*}
        filter=${spec#*:}
        tag="$path-$suite-t$threads-r$round"
        args=($suite --threads "$threads" $opts)
        [ -n "$filter" ] && args+=(--filter "$filter")
        echo "$(date -u +%H:%M:%S) $tag load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
        env "${engine_env[@]}" $bench "${args[@]}" --out "$out/engine-$tag.jsonl" > /dev/null 2> "$out/engine-$tag.err"
        env "${torch_env[@]}" $torch "${args[@]}" --out "$out/torch-$tag.jsonl" > /dev/null 2> "$out/torch-$tag.err"
      done
    done
  done
done
echo "$(date -u +%H:%M:%S) done load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
