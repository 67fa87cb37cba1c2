#!/bin/sh
# Model-brain comparison benchmark, 2 threads, one run: correlation-distance RDM of 1,000 stimuli x
# 100,000 features vs numpy (with the fraction of this machine's sgemm peak), and PLS-25 on
# 3,200 x 9,216 -> 168 neuroids over 10 stratified splits vs scikit-learn (ratio, equality of
# predictions, peak memory vs the activation array).
# Usage: benchmarks/compare/run.sh [BUILD_DIR]   (builds bench_compare there if needed)
# LRM_BENCH_SKLEARN_SPLITS=N times scikit-learn on N splits only and scales to 10;
# LRM_BENCH_ONLY=rdm or pls runs one part.
set -e
cd "$(dirname "$0")/../.."
build=${1:-build-bench}
work=${LRM_BENCH_DIR:-/tmp/lrm_bench_compare}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 LRM_THREADS=2
if [ ! -x "$build/bench_compare" ]; then
  cmake -S . -B "$build" -G Ninja -DLRM_WITH_TORCH=OFF -DLRM_BUILD_BENCHMARKS=ON >/dev/null
  ninja -C "$build" -j2 bench_compare
fi
/usr/bin/python3 benchmarks/compare/bench_compare.py "$build/bench_compare" "$work"
