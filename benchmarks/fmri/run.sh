#!/bin/sh
# Voxelwise ridge CV (per-voxel penalty, 20 penalties): lrm vs scikit-learn RidgeCV, 2 threads.
# Usage: benchmarks/fmri/run.sh [build/lrm] [stimuli units voxels]   (from the repository root)
set -e
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
lrm=${1:-build/lrm}
shift 2>/dev/null || true
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$lrm" "$@"
