#!/usr/bin/env bash
# On a CUDA machine (the device tool's: Ubuntu 24.04, a pip torch with CUDA in python3, nvcc, CMake,
# ninja, HDF5, Eigen, Boost, CLI11, GoogleTest, OpenBLAS, OpenMPI; no registry): builds lrm against
# the pip torch's LibTorch and the packages benchmarks/gpu/vendor.sh unpacked into .gpu-vendor/,
# runs the GPU parity tests, then the extraction benchmark: AlexNet-LRM3 (random weights), layers
# features.2,features.5,features.12,classifier.2,classifier.6, 2 passes, 224x224, batch 256, into
# HDF5, in fp32, tf32 and bf16, against the PyTorch peer (bench_peer.py: the published LRMNet with
# forward hooks copying each layer to host memory, and the model alone without hooks).
# Steps (default all): build, test, bench. A warm device machine keeps the build between calls.
# The suite's images/s is steady-state: (N - N/4) / (t(N) - t(N/4)) of two whole commands, which
# cancels start-up (CUDA context, model, file); the whole-command figure of N is printed beside it.
# LRM_GPU_DRY=1: a machine without CUDA: the LibTorch CMake finds (Debian's), --device cpu, 64
# images in batches of 16; every step runs up to the CUDA parts.
# Env: LRM_GPU_PYTHON (the python3 with torch), LRM_GPU_BUILD (build dir, default build-gpu), LRM_GPU_IMAGES (default 5120),
#      LRM_GPU_TARGETS (default: lrm lrm-torch lrm_torch_tests), LRM_GPU_JOBS (default: all cores).
# Usage: [LRM_GPU_DRY=1] benchmarks/gpu/run.sh [build] [test] [bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/benchmarks/gpu
vendor=$root/.gpu-vendor
build=${LRM_GPU_BUILD:-$root/build-gpu}
dry=${LRM_GPU_DRY:-0}
steps=${*:-build test bench}
threads=$(nproc)
layers=features.2,features.5,features.12,classifier.2,classifier.6
if [[ $dry == 1 ]]; then
  device=cpu images=${LRM_GPU_IMAGES:-64} batch=16 peer_batches=2 python=${LRM_GPU_PYTHON:-/usr/bin/python3}
else
  device=cuda images=${LRM_GPU_IMAGES:-5120} batch=256 peer_batches=20 python=${LRM_GPU_PYTHON:-python3}
fi
[[ -d $vendor/usr ]] || { echo "run.sh: $vendor is missing: run benchmarks/gpu/vendor.sh first" >&2; exit 1; }
export PKG_CONFIG_PATH=$vendor/usr/lib/x86_64-linux-gnu/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$vendor/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1
lrm=$build/lrm
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

if [[ " $steps " == *" build "* ]]; then
  prefix="$vendor/usr"
  if [[ $dry != 1 ]]; then
    prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)');$prefix"
    export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}  # H200; skips probing the GPU
  fi
  t0=$(date +%s)
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DLRM_WITH_PYTHON=OFF >"$build/cmake.log" 2>&1 || { tail -40 "$build/cmake.log"; exit 1; }
  grep -q LRM_TORCH_CUDA "$build/build.ninja" && echo "build: CUDA LibTorch" || echo "build: CPU LibTorch"
  # shellcheck disable=SC2086
  ninja -C "$build" -j "${LRM_GPU_JOBS:-$threads}" ${LRM_GPU_TARGETS:-lrm lrm-torch lrm_torch_tests} \
    >"$build/ninja.log" 2>&1 ||
    { grep -E -A8 'error|FAILED' "$build/ninja.log" | head -80; exit 1; }
  echo "build: $(( $(date +%s) - t0 )) s"
fi

if [[ " $steps " == *" test "* ]]; then
  # CPU against CUDA per precision (forward of AlexNet-LRM3, extraction of the MNIST fixture); the
  # tolerances are in tests/unit/torch/test_device.cpp. Without CUDA they skip.
  "$build/lrm_torch_tests" --gtest_filter='Device*:Extract*:LrmNet*' 2>&1 |
    grep -E 'relative difference|^\[  (PASSED|FAILED|SKIPPED) |^\[==' || true
  "$lrm" --device "$device" model bench alexnet-lrm3 --batch-size 4 --repeats 1 | sed 's/^/auto device: /'
  if "$python" -c 'import h5py' 2>/dev/null; then "$python" "$root/tests/e2e/test_device.py" "$lrm" | tail -1; fi
fi

# Images/s of one suite run of `n` images (seconds in $secs).
suite_run() {  # precision n folder
  local t0 t1
  rm -f "$work/out.h5"
  t0=$(date +%s.%N)
  "$lrm" --quiet --device "$device" --precision "$1" --threads "$threads" extract --model alexnet-lrm3 \
    --stimuli "$3" --resize 0 --crop 0 --layers "$layers" --passes 0,1 --batch-size "$batch" \
    --out "$work/out.h5"
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  rm -f "$work/out.h5"
}

if [[ " $steps " == *" bench "* ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/lrm_gpu_bench.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # Random 224x224 RGB images as binary PPMs (Python's standard library only), and a folder of the
  # first quarter of them.
  "$python" - "$work" "$images" <<'PY'
import os, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
for folder, count in (("all", n), ("quarter", n // 4)):
    os.makedirs(os.path.join(work, folder, "noise"))
for i in range(n):
    path = os.path.join(work, "all", "noise", f"{i:06d}.ppm")
    with open(path, "wb") as f:
        f.write(b"P6 224 224 255\n" + rng.randbytes(224 * 224 * 3))
    if i < n // 4:
        os.symlink(path, os.path.join(work, "quarter", "noise", f"{i:06d}.ppm"))
PY
  echo "bench: $images images (and $((images / 4))), batch $batch, 2 passes, $layers, $device, $threads threads"
  for precision in fp32 tf32 bf16; do
    suite_run "$precision" $((images / 4)) "$work/quarter"; small=$secs
    suite_run "$precision" "$images" "$work/all"; big=$secs
    alone=$("$lrm" --device "$device" --precision "$precision" model bench alexnet-lrm3 \
      --batch-size "$batch" --num-passes 2 --repeats 5 | sed -E 's/.*: ([0-9.]+) s per call.*/\1/')
    peer="" peer_alone=""
    if [[ -d $vendor/lrm-steering ]] && ! [[ $dry == 1 && $precision == bf16 ]]; then
      # (CPU autocast of torch 1.13 fails in the published layer norm: no bf16 peer in a dry run.)
      line=$("$python" "$here/bench_peer.py" --lrm-steering "$vendor/lrm-steering" --device "$device" \
        --precision "$precision" --batch-size "$batch" --batches "$peer_batches" --layers "$layers")
      echo "$line"
      peer=$(echo "$line" | sed -E 's/.*hooks ([0-9]+) images.*/\1/')
      peer_alone=$(echo "$line" | sed -E 's/.*model alone ([0-9]+) images.*/\1/')
    fi
    awk -v p="$precision" -v n="$images" -v s="$small" -v b="$big" -v a="$alone" -v batch="$batch" \
        -v peer="$peer" -v pa="$peer_alone" 'BEGIN {
      steady = (n - int(n / 4)) / (b - s); whole = n / b; model = batch / a
      printf "suite %s: %.0f images/s steady (%.0f whole command of %d, %.1f s); suite model alone %.0f images/s\n", p, steady, whole, n, b, model
      printf "suite %s: fraction of the suite model alone %.2f (goal >= 0.8)\n", p, steady / model
      if (peer != "") {
        printf "suite %s: %.2fx the PyTorch peer with hooks (goal >= 1.5); fraction of the peer model alone %.2f (goal >= 0.8)\n", p, steady / peer, steady / pa
      } }'
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
