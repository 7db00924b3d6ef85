#!/usr/bin/env bash
# arm64-check.sh: the CPU conformance suite on ARM64, where the kernels run their Vector128 path on AdvSimd (with
# hardware FMA, which x86 forced onto Vector128 lacks). On an x86-64 machine it runs under QEMU's user-mode
# emulation: the .NET runtime, the JIT and the kernels are all ARM64 code, emulated, so the results are ARM64's
# and the times are not (an emulated run takes minutes; nothing here measures speed).
#
#   tools/arm64-check.sh [--install] [--scalar] [ConformanceCheck options: --category NAME --filter REGEX --verbose]
#   tools/arm64-check.sh [--install] [--scalar] --trainer [FashionMnist options]
#
# --install first installs what the emulation needs (Debian/Ubuntu, as root): qemu-user-static and the ARM64 C and
# C++ runtime libraries (dpkg --add-architecture arm64). --scalar hides the vector instructions from the JIT
# (DOTNET_EnableHWIntrinsic=0), the scalar path on ARM64. --trainer runs the Fashion-MNIST trainer instead (one
# epoch of LeNet on 2000 images; needs Debian's dataset-fashion-mnist). On an ARM64 machine nothing is emulated.
# The suite is published self-contained for linux-arm64 into artifacts/arm64-check (the ARM64 runtime pack comes
# from NuGet) and run there by tools/ConformanceCheck, NUnit's in-process runner: the test host cannot start under
# the emulation. The last line is "N passed, N failed, N skipped"; the exit code is ConformanceCheck's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [[ ${1:-} == --install ]]; then
  shift
  dpkg --add-architecture arm64
  apt-get update -q
  apt-get install -y -q qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64
fi
# ENGINE_TEST_CPU_PATH names the path for InstructionSetPathTests, which fail a run on another one.
settings=(ENGINE_TEST_CPU_PATH=Vector128)
if [[ ${1:-} == --scalar ]]; then
  shift
  settings=(ENGINE_TEST_CPU_PATH=Scalar DOTNET_EnableHWIntrinsic=0)
fi

emulate=()
if [[ $(uname -m) != aarch64 ]]; then
  if ! command -v qemu-aarch64-static >/dev/null 2>&1 || [[ ! -e /lib/ld-linux-aarch64.so.1 ]] ||
    ! ls /usr/lib/aarch64-linux-gnu/libstdc++.so.6 >/dev/null 2>&1; then
    echo "arm64-check: this $(uname -m) machine needs qemu-user-static and the ARM64 libc and libstdc++ to run" \
      "ARM64 code; run 'tools/arm64-check.sh --install' as root (Debian/Ubuntu), or install them yourself." >&2
    exit 2
  fi
  # The libraries come from the multiarch directories under /; the runtime's W^X double mapping of JIT code is
  # not supported under the emulation (the process faults), so it is turned off.
  settings+=(QEMU_LD_PREFIX=/ DOTNET_EnableWriteXorExecute=0)
  emulate=(qemu-aarch64-static)
fi

# Publishes a project self-contained for linux-arm64 into artifacts/$2.
publish() {
  mkdir -p artifacts
  if ! dotnet publish "$1" -c Release -r linux-arm64 --self-contained -o "artifacts/$2" \
    >"artifacts/$2-publish.log" 2>&1; then
    grep -E "error" "artifacts/$2-publish.log" | sort -u | tail -n 20 >&2
    echo "arm64-check: dotnet publish failed; the whole log is artifacts/$2-publish.log" >&2
    exit 1
  fi
}

if [[ ${1:-} == --trainer ]]; then
  # The Fashion-MNIST trainer, one epoch of LeNet on a 2000-image slice (further arguments go to it).
  shift
  publish samples/FashionMnist/FashionMnist.csproj arm64-trainer
  exec env "${settings[@]}" "${emulate[@]}" artifacts/arm64-trainer/FashionMnist --model lenet --epochs 1 \
    --limit 2000 "$@"
fi
publish tools/ConformanceCheck/ConformanceCheck.csproj arm64-check
exec env "${settings[@]}" "${emulate[@]}" artifacts/arm64-check/ConformanceCheck "$@"
