#!/bin/sh
# Voxelwise ridge CV (per-voxel penalty, 20 penalties) on a simulated NSD-like subject in NIfTI:
# lrm vs scikit-learn RidgeCV(alpha_per_target=True), 2 threads (see bench.py).
# Usage: benchmarks/fmri/run.sh [build/lrm] [scale (1 = NSD size; default 0.1)] [sklearn_full_limit_s]
#        [layers (default small,big)]
# (from the repository root). Full scale needs ~25 GB of disk and hours on 2 cores.
set -e
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
lrm=${1:-build/lrm}
work=$(mktemp -d "${TMPDIR:-/tmp}/lrm-fmri-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$(dirname "$0")/bench.py" "$lrm" "$work" "${2:-0.1}" "${3:-300}" "${4:-small,big}"
