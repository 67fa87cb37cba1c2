#!/bin/sh
# Localizer benchmark: `lrm localize --target all` (the whole command: start-up, reading, tests,
# writing) vs scipy + statsmodels (compute only) on 400 images x 193,600 units (features.0 of
# AlexNet-LRM3, random weights), 2 threads, on the user's path and on the same data uncompressed:
#   compressed:   written by `lrm extract` (its default chunking, shuffle + deflate)
#   uncompressed: the same file through `h5repack -f NONE` (Debian hdf5-tools)
# Usage: benchmarks/localizer/run.sh [LRM] [REPEATS]   (default build/lrm, 3 repeats; medians)
set -e
cd "$(dirname "$0")/../.."
lrm=${1:-build/lrm}
repeats=${2:-3}
work=${LRM_BENCH_DIR:-/tmp/lrm_bench_localizer}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 LRM_THREADS=2
mkdir -p "$work"
[ -d "$work/jpegs" ] || /usr/bin/python3 benchmarks/extract/make_jpegs.py "$work/jpegs" 400
# lrm extract writes <out>.partial and renames it when complete.
[ -f "$work/extract.h5" ] || "$lrm" --quiet --threads 2 extract --model alexnet-lrm3 \
  --stimuli "$work/jpegs" --layers features.0 --passes 0 --out "$work/extract.h5"
[ -f "$work/uncompressed.h5" ] || h5repack -f NONE "$work/extract.h5" "$work/uncompressed.h5"
/usr/bin/python3 benchmarks/localizer/bench_localizer.py --repeats "$repeats" "$lrm" \
  "$work/extract.h5" "$work/uncompressed.h5"
