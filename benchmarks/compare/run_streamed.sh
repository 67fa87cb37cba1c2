#!/bin/sh
# Streamed comparison benchmark (not part of the tests; ~20-40 min on 2 cores): a 5,000-stimulus x
# 500,000-feature layer (10 GB float32 before compression) in lrm extract's layout (chunks of one
# stimulus row, shuffle + deflate), generated with h5py, through `lrm compare rsa` and
# `lrm compare encode --regression ridge` with --memory 2G; prints each command's peak memory
# (VmHWM) and time. Then an 800-stimulus subset of the same layer through both commands with its
# rows in memory (--memory 64G) and streamed in blocks (--memory 400M): their results must agree
# within 1e-9, and so must the full run's model RDM restricted to the subset.
# Needs about 12 GB free under $LRM_BENCH_DIR (default /tmp/lrm_bench_streamed); the generated
# files are deleted at the end unless LRM_BENCH_KEEP=1.
# Usage: benchmarks/compare/run_streamed.sh [LRM]   (default build/lrm)
# LRM_BENCH_ONLY=rsa,encode,subset (a comma list) runs those parts in that order.
set -e
cd "$(dirname "$0")/../.."
lrm=${1:-build/lrm}
work=${LRM_BENCH_DIR:-/tmp/lrm_bench_streamed}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 LRM_THREADS=2
mkdir -p "$work"
df -h "$work"
/usr/bin/python3 benchmarks/compare/bench_streamed.py "$lrm" "$work"
[ "${LRM_BENCH_KEEP:-0}" = 1 ] || rm -f "$work"/*.h5 "$work"/*.h5.partial
