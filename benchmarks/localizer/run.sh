#!/bin/sh
# Localizer benchmark: suite vs scipy + statsmodels on 400 images x 193,600 units, 2 threads.
# Usage: benchmarks/localizer/run.sh [BUILD_DIR] [LRM]
#   builds bench_localize in BUILD_DIR if needed; with LRM (path to the lrm executable) times
#   `lrm localize` instead (the whole command: start-up, reading, writing).
set -e
cd "$(dirname "$0")/../.."
build=${1:-build-bench}
data=${LRM_BENCH_DATA:-/tmp/lrm_bench_localizer.h5}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 LRM_THREADS=2
if [ ! -x "$build/bench_localize" ]; then
  cmake -S . -B "$build" -G Ninja -DLRM_WITH_TORCH=OFF -DLRM_BUILD_BENCHMARKS=ON >/dev/null
  ninja -C "$build" -j2 bench_localize
fi
[ -f "$data" ] || /usr/bin/python3 benchmarks/localizer/make_activations.py "$data"
/usr/bin/python3 benchmarks/localizer/bench_localizer.py "$data" "${2:-$build/bench_localize}"
